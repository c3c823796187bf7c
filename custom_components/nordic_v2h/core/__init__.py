"""The pure planning core of Nordic V2H.

Everything below this package uses only the standard library and numpy. Time, prices,
tariffs, vehicle state and limits are parameters, never read from a clock or from I/O,
so the same code runs inside Home Assistant (in the executor) and in the backtest.
"""
