def read_first(path):
    f = open(path)
    line = f.readline()
    f.close()
    return line
