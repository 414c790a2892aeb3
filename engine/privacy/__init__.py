"""Personal data: where it is detected, how it is masked before anything is stored, and who may read the files."""
