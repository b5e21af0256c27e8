# Tests of carbon-intensity providers, history and the forecaster.
