"""Training machinery for the accuracy track (GCPM, Osokin 2019, Sec. 3.2): config, loss, schedule,
checkpoints, torch.distributed plumbing and the epoch loop behind ``python -m bench.train``."""
