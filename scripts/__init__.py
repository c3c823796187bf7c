"""Developer and demo scripts of Nordic V2H."""
