"""Infrastructure: data, configuration, seeding, the training loop, checkpoints, argument checks."""
