"""Principal component analysis: principal axes, projection onto their span, explained variance."""
