def closed_guard(path):
    fh = open(path)
    data = fh.read()
    if not fh.closed:
        fh.close()
    return data


def swallowed_close(path):
    # Refused: the with would let out what the except swallowed.
    f = open(path)
    data = f.read()
    try:
        f.close()
    except OSError:
        pass
    return data


def read_twice(path):
    f = open(path)
    first = f.read()
    second = f.read()
    f.close()
    return first + second


def descriptor(path):
    # Refused: the descriptor dies with the file and is returned.
    f = open(path)
    fd = f.fileno()
    f.close()
    return fd


REMOVED = []


def read_then_remove(path):
    # Refused: what ran after the close (removing the file) would run before it.
    f = open(path)
    try:
        data = f.read()
    finally:
        f.close()
        REMOVED.append(path)
    return data


def close_then_log(path):
    f = open(path)
    data = f.read()
    if not data:
        f.close()
        print("empty")
        return None
    f.close()
    return data


def open_config(path):
    if not path:
        return None
    return open(path)


def read_config(path):
    # Refused: the wrapper can give None, and the code tests for it.
    f = open_config(path)
    if f:
        try:
            return f.read()
        finally:
            f.close()
    return ""


def touch_config(path):
    # Refused too: `if f: f.close()` after a wrapper that can give None.
    f = open_config(path)
    if f:
        f.close()


def sync_close(f):
    f.flush()
    f.close()


def read_synced(path):
    # Refused: sync_close() flushes before it closes; the with of open() would only close.
    f = open(path)
    try:
        return f.read()
    finally:
        sync_close(f)
