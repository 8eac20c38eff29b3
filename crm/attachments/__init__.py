"""Attachments: files on records (screening cases, units' opinions, agenda items, …), checked by
content, stored outside the static folder, read only by those who may read the record, every
upload and download audited. Kinds are registered in create_app (crm.attachments.kinds)."""
