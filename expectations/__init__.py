"""Quality suites (Great Expectations), named <asset>.<stage>, and the code that runs them."""
