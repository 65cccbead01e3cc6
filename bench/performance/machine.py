"""The machine line: what the figures were measured on."""

from __future__ import annotations

import os
import platform
import sqlite3
from importlib import metadata
from pathlib import Path

import pika
from sqlalchemy import create_engine, text

from bench.performance.stack import AMQP_ROOT, PG_ADMIN

PACKAGES = ("dramatiq", "kombu", "pika", "SQLAlchemy", "psycopg")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def postgres_version() -> str:
    engine = create_engine(PG_ADMIN)
    try:
        with engine.connect() as conn:
            return str(conn.scalar(text("show server_version"))).split()[0]
    finally:
        engine.dispose()


def rabbitmq_version() -> str:
    """From the AMQP server properties of a connection to the default vhost."""
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_ROOT))
    try:
        version = connection._impl.server_properties.get("version", "?")
        return version.decode() if isinstance(version, bytes) else str(version)
    finally:
        connection.close()


def describe() -> str:
    packages = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    return (
        f"machine: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"PostgreSQL {postgres_version()}; RabbitMQ {rabbitmq_version()}; "
        f"SQLite {sqlite3.sqlite_version}; {packages}"
    )
