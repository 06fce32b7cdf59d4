"""Training for the accuracy track (GCPM, Osokin 2019, Sec. 3.2): ``python -m bench.train``."""
