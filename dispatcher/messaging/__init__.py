"""AMQP with kombu: exchanges and queues, the publisher, the intake consumer, the relay."""
