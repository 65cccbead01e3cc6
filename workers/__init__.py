"""dramatiq: the broker set-up, thin idempotent actors over the services, and the scheduler's
jobs, which only find work and enqueue it. May import dispatcher's services, adapters and
domain; never the bootstrap or the CLI."""
