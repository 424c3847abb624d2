"""y = x² learnt by two small PyTorch networks: a 1-2-1 sigmoid net and a 1-10-10-1 ReLU net."""
