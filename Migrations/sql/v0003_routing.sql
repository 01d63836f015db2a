-- v0003: what the resolver needs beyond the directory model (spec §3).
-- Recipient validation (ours): a shared domain whose directory lists every valid recipient of
-- both systems rejects an address known to neither at RCPT time.
ALTER TABLE accepted_domain ADD COLUMN validate_recipients INTEGER NOT NULL DEFAULT 0
    CHECK (validate_recipients = 0 OR validate_recipients = 1);
-- Postfix's recipient_delimiter: user+tag@domain resolves as user@domain when the tagged
-- address is not itself an address. Empty turns it off. Must agree with main.cf.
ALTER TABLE server_setting ADD COLUMN recipient_delimiter TEXT NOT NULL DEFAULT '+'
    CHECK (length(recipient_delimiter) <= 1);
