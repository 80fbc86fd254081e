# Found by the fuzz target: two imports on one line above a syntax error gave overlapping
# ranges to the parse of the definitions after the error; the file was reported unparseable.
import os; import sys
x = (
def f(p):
    fh = open(p)
    return fh.read()
