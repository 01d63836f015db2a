-- v0004: what serving Postfix needs (issue 5).
-- How mailboxes are delivered: 'virtual' (Postfix's virtual(8) into Maildirs) or
-- 'lmtp:HOST:PORT' (a mailbox server). One setting, read by `mailns serve` and printed by
-- `mailns postfix-config`, so the two always agree.
ALTER TABLE server_setting ADD COLUMN delivery_transport TEXT NOT NULL DEFAULT 'virtual'
    CHECK (delivery_transport = 'virtual' OR (delivery_transport LIKE 'lmtp:%' AND length(delivery_transport) <= 300));

-- virtual(8) refuses socketmap tables ("security-sensitive data"), so it reads mailboxes from
-- this view through Postfix's sqlite: table. One row per SMTP address of a mailbox; the
-- Maildir is the alias, lower-cased (aliases are unique case-insensitively), with '%' and '/'
-- escaped so every alias is one directory of its own.
CREATE VIEW postfix_mailbox (address, maildir) AS
    SELECT a.address,
           replace(replace(lower(r.alias), '%', '%25'), '/', '%2F') || '/'
    FROM proxy_address AS a
    JOIN recipient AS r ON r.id = a.recipient_id
    WHERE a.type = 'SMTP' AND r.kind = 'mailbox';
