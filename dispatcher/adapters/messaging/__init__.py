"""AMQP with kombu: exchanges and queues (`topology`), connections, the one boundary where
deliveries become bytes (`delivery`), the reliable consumer and its intake and commands
handlers, the publisher and the outbox relay."""
