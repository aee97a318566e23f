"""Offline mirror of state.gov: renders the bundled media notes in the site's markup and serves them
over HTTP (with injectable faults) for the demo and end-to-end tests. Imports no other stage."""
