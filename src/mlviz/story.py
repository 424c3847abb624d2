"""The lesson a scene tells: chapters over epoch ranges and the objective it minimises.

An algorithm declares its story as data (``Algorithm.story``: a function of the config and
the finished run, since chapter boundaries often depend on both, e.g. the epoch where each K
of k-means starts). The player marks chapters on its slider and shows the playing chapter's
sentence as the caption; animations and posters can carry the sentence in a caption strip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Longest chapter title (a slider mark) and sentence (a caption), in characters.
TITLE_MAX, SENTENCE_MAX = 40, 200


@dataclass(frozen=True)
class Chapter:
    """One phase of a run: from epoch ``start`` up to the next chapter's start.

    Attributes:
        title: a short name for the slider mark ("K = 3", "the elbow", "act 2").
        start: the first epoch of the chapter.
        sentence: one plain sentence a student reads while the chapter plays.
    """

    title: str
    start: int
    sentence: str


@dataclass(frozen=True)
class Story:
    """The chapters of a run, in order of ``start``, and the objective as mathtext.

    ``objective`` is an equation matplotlib's mathtext draws, e.g.
    ``r"$J(w, b) = \\frac{1}{n}\\sum_i (w x_i + b - y_i)^2$"`` (``""``: none stated).
    """

    chapters: tuple[Chapter, ...]
    objective: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "chapters", tuple(self.chapters))

    def index_at(self, epoch: int) -> int | None:
        """Index of the chapter playing at ``epoch`` (``None`` before the first chapter)."""
        starts = [chapter.start for chapter in self.chapters]
        position = int(np.searchsorted(starts, epoch, side="right")) - 1
        return position if position >= 0 else None

    def frame_chapters(self, epochs: Sequence[int]) -> list[int | None]:
        """The chapter index of each drawn frame, given the frames' epochs."""
        return [self.index_at(int(epoch)) for epoch in epochs]

    def first_frames(self, epochs: Sequence[int]) -> list[int | None]:
        """For each chapter, the first frame that shows it (``None``: no frame does)."""
        firsts: list[int | None] = [None] * len(self.chapters)
        for frame, index in enumerate(self.frame_chapters(epochs)):
            if index is not None and firsts[index] is None:
                firsts[index] = frame
        return firsts


def story_problems(story: object, epochs: Sequence[int]) -> list[str]:
    """What is wrong with ``story`` for a run whose recorded epochs are ``epochs``.

    An empty list means the story is fine: a :class:`Story` whose chapters start in order,
    the first at or before the run's first epoch, each inside the run, each with a short
    title and one sentence; an objective, if given, that mathtext can draw.
    """
    if not isinstance(story, Story):
        return [f"story must be a mlviz.story.Story, not {type(story).__name__}"]
    problems = []
    if not story.chapters:
        problems.append("a story needs at least one chapter")
    epochs = [int(epoch) for epoch in epochs]
    first, last = (epochs[0], epochs[-1]) if epochs else (0, 0)
    previous = None
    for number, chapter in enumerate(story.chapters, 1):
        where = f"chapter {number}"
        if not isinstance(chapter, Chapter):
            problems.append(f"{where} is a {type(chapter).__name__}, not a Chapter")
            continue
        if not isinstance(chapter.title, str) or not chapter.title.strip():
            problems.append(f"{where} has no title")
        elif len(chapter.title) > TITLE_MAX or "\n" in chapter.title:
            problems.append(f"{where}'s title is longer than {TITLE_MAX} characters or "
                            f"holds a line break: {chapter.title!r}")
        if not isinstance(chapter.sentence, str) or not chapter.sentence.strip():
            problems.append(f"{where} ({chapter.title!r}) has no sentence")
        elif len(chapter.sentence) > SENTENCE_MAX or "\n" in chapter.sentence:
            problems.append(f"{where}'s sentence is longer than {SENTENCE_MAX} characters "
                            f"or holds a line break")
        if not isinstance(chapter.start, (int, np.integer)) or isinstance(chapter.start, bool):
            problems.append(f"{where}'s start is not an epoch number: {chapter.start!r}")
            continue
        if previous is not None and chapter.start <= previous:
            problems.append(f"{where} starts at epoch {chapter.start}, not after the "
                            f"previous chapter's {previous}")
        if epochs and not first <= chapter.start <= last and number > 1:
            problems.append(f"{where} starts at epoch {chapter.start}, outside the run "
                            f"({first} to {last})")
        previous = int(chapter.start)
    if story.chapters and isinstance(story.chapters[0], Chapter) and epochs \
            and isinstance(story.chapters[0].start, (int, np.integer)) \
            and story.chapters[0].start > first:
        problems.append(f"the first chapter starts at epoch {story.chapters[0].start}, after "
                        f"the run's first epoch {first}")
    if story.objective:
        problems.extend(_mathtext_problems(story.objective))
    return problems


def _mathtext_problems(text: str) -> list[str]:
    from matplotlib.mathtext import MathTextParser

    try:
        MathTextParser("agg").parse(text, dpi=72)
    except ValueError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "unparsable"
        return [f"objective is not valid mathtext ({first}): {text!r}"]
    return []
