# Tests of common/ and the daemon's modules.
