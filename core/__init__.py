"""The platform layer under every app: environment settings, typed input, faults of the
services (PostgreSQL, Redis), the API's error shape, pagination and schema helpers. It
imports no app of ours (docs/architecture.md)."""
