"""The language of mail fields (pure: no Flask, models or I/O): recipient lists as typed in a
To/CC/BCC/Reply-To field, filled from an entry's placeholders, and header encoding. Sending
is `app.delivery` (SMTP); validating a job's email settings is `app.jobs.schema`."""
