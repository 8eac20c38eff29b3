"""Backups: one archive with the database, the files the app keeps and the secret key
(`crm backup`), and `crm restore` to bring it back on this or another host."""
