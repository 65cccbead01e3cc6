"""The senders of notifications: webhooks (Standard Webhooks), e-mail (SMTP), and a twin."""
