# Tests of the runner area.
