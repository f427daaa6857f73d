"""Squall's compatibility shim for StackStorm Python actions (a small subset of st2common)."""

# The StackStorm release Squall answers as (src/version.ts STACKSTORM_VERSION; GET /api/v1/ says the
# same): code that reads st2common.__version__ sees a release, not an ImportError.
__version__ = "3.9.0"
