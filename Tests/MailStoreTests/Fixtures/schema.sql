CREATE TABLE accepted_domain (
    id INTEGER PRIMARY KEY,
    -- Lower-case IDNA A-label, no trailing dot (normalised by MailCore.DomainName).
    name TEXT NOT NULL UNIQUE CHECK (name = lower(name) AND length(name) BETWEEN 1 AND 255),
    type TEXT NOT NULL CHECK (type = 'authoritative' OR type = 'shared' OR type = 'relay'),
    include_subdomains INTEGER NOT NULL DEFAULT 0 CHECK (include_subdomains = 0 OR include_subdomains = 1)
, validate_recipients INTEGER NOT NULL DEFAULT 0
    CHECK (validate_recipients = 0 OR validate_recipients = 1)) STRICT;
CREATE TABLE address_history (
    id INTEGER PRIMARY KEY,
    recipient_id INTEGER REFERENCES recipient (id) ON DELETE SET NULL,
    alias TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action = 'added' OR action = 'promoted' OR action = 'demoted' OR action = 'removed'),
    type TEXT NOT NULL,
    address TEXT NOT NULL,
    -- What did it: 'manual', 'import' or 'policy'; actor_name is the policy's name or the source.
    actor TEXT NOT NULL CHECK (actor = 'manual' OR actor = 'import' OR actor = 'policy'),
    actor_name TEXT,
    batch_id TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX address_history_alias ON address_history (alias COLLATE NOCASE, id);
CREATE INDEX address_history_recipient ON address_history (recipient_id, id);
CREATE TABLE address_space (
    id INTEGER PRIMARY KEY,
    connector_id INTEGER NOT NULL REFERENCES connector (id) ON DELETE CASCADE,
    -- '*', 'fabrikam.com' or '*.fabrikam.com', lower-case A-labels.
    pattern TEXT NOT NULL CHECK (pattern = lower(pattern) AND length(pattern) BETWEEN 1 AND 257),
    cost INTEGER NOT NULL DEFAULT 1 CHECK (cost BETWEEN 1 AND 100),
    UNIQUE (connector_id, pattern)
) STRICT;
CREATE INDEX address_space_pattern ON address_space (pattern);
CREATE TABLE address_template (
    id INTEGER PRIMARY KEY,
    policy_id INTEGER NOT NULL REFERENCES recipient_policy (id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 1),
    type TEXT NOT NULL CHECK (type = upper(type) AND length(type) BETWEEN 1 AND 16),
    -- The text after the prefix, verbatim (e.g. %g.%s@contoso.com).
    template TEXT NOT NULL CHECK (length(template) BETWEEN 1 AND 1024),
    is_primary INTEGER NOT NULL CHECK (is_primary = 0 OR is_primary = 1),
    UNIQUE (policy_id, position),
    UNIQUE (policy_id, type, template)
) STRICT;
CREATE UNIQUE INDEX address_template_one_primary ON address_template (policy_id, type) WHERE is_primary = 1;
CREATE TABLE connector (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    -- 1: deliver by DNS MX lookup; 0: deliver to the smart hosts below.
    uses_dns INTEGER NOT NULL CHECK (uses_dns = 0 OR uses_dns = 1),
    allow_relay INTEGER NOT NULL DEFAULT 0 CHECK (allow_relay = 0 OR allow_relay = 1),
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled = 0 OR enabled = 1)
) STRICT;
CREATE TABLE import_key (
    name TEXT NOT NULL COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 64),
    value TEXT NOT NULL COLLATE NOCASE CHECK (length(value) BETWEEN 1 AND 1024),
    recipient_id INTEGER NOT NULL REFERENCES recipient (id) ON DELETE CASCADE,
    PRIMARY KEY (name, value)
) STRICT, WITHOUT ROWID;
CREATE INDEX import_key_recipient ON import_key (recipient_id);
CREATE TABLE local_host (
    name TEXT PRIMARY KEY CHECK (name = lower(name) AND length(name) BETWEEN 1 AND 255)
) STRICT;
CREATE VIEW postfix_mailbox (address, maildir) AS
    SELECT a.address,
           replace(replace(lower(r.alias), '%', '%25'), '/', '%2F') || '/'
    FROM proxy_address AS a
    JOIN recipient AS r ON r.id = a.recipient_id
    WHERE a.type = 'SMTP' AND r.kind = 'mailbox';
CREATE TABLE "proxy_address" (
    recipient_id INTEGER NOT NULL REFERENCES recipient (id) ON DELETE CASCADE,
    type TEXT NOT NULL CHECK (type = upper(type) AND length(type) BETWEEN 1 AND 16),
    -- NOCASE: SMTP addresses are ASCII (A-label domains, RFC 5321 local parts), so ASCII
    -- folding is exactly "case-insensitive" for them. Unique across the whole directory.
    address TEXT NOT NULL COLLATE NOCASE CHECK (length(address) BETWEEN 1 AND 1024),
    is_primary INTEGER NOT NULL CHECK (is_primary = 0 OR is_primary = 1),
    PRIMARY KEY (address, type)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX proxy_address_one_primary ON proxy_address (recipient_id, type) WHERE is_primary = 1;
CREATE INDEX proxy_address_recipient ON proxy_address (recipient_id, is_primary);
CREATE TABLE recipient (
    id INTEGER PRIMARY KEY,
    alias TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (length(alias) BETWEEN 1 AND 64),
    kind TEXT NOT NULL CHECK (kind = 'mailbox' OR kind = 'contact' OR kind = 'remote'),
    given_name TEXT CHECK (length(given_name) BETWEEN 1 AND 64),
    sn TEXT CHECK (length(sn) BETWEEN 1 AND 64),
    initials TEXT CHECK (length(initials) BETWEEN 1 AND 6),
    display_name TEXT CHECK (length(display_name) BETWEEN 1 AND 256),
    company TEXT CHECK (length(company) BETWEEN 1 AND 64),
    department TEXT CHECK (length(department) BETWEEN 1 AND 64),
    title TEXT CHECK (length(title) BETWEEN 1 AND 128),
    office TEXT CHECK (length(office) BETWEEN 1 AND 128),
    extension_attribute_1 TEXT CHECK (length(extension_attribute_1) BETWEEN 1 AND 1024),
    extension_attribute_2 TEXT CHECK (length(extension_attribute_2) BETWEEN 1 AND 1024),
    extension_attribute_3 TEXT CHECK (length(extension_attribute_3) BETWEEN 1 AND 1024),
    extension_attribute_4 TEXT CHECK (length(extension_attribute_4) BETWEEN 1 AND 1024),
    extension_attribute_5 TEXT CHECK (length(extension_attribute_5) BETWEEN 1 AND 1024),
    extension_attribute_6 TEXT CHECK (length(extension_attribute_6) BETWEEN 1 AND 1024),
    extension_attribute_7 TEXT CHECK (length(extension_attribute_7) BETWEEN 1 AND 1024),
    extension_attribute_8 TEXT CHECK (length(extension_attribute_8) BETWEEN 1 AND 1024),
    extension_attribute_9 TEXT CHECK (length(extension_attribute_9) BETWEEN 1 AND 1024),
    extension_attribute_10 TEXT CHECK (length(extension_attribute_10) BETWEEN 1 AND 1024),
    extension_attribute_11 TEXT CHECK (length(extension_attribute_11) BETWEEN 1 AND 1024),
    extension_attribute_12 TEXT CHECK (length(extension_attribute_12) BETWEEN 1 AND 1024),
    extension_attribute_13 TEXT CHECK (length(extension_attribute_13) BETWEEN 1 AND 1024),
    extension_attribute_14 TEXT CHECK (length(extension_attribute_14) BETWEEN 1 AND 1024),
    extension_attribute_15 TEXT CHECK (length(extension_attribute_15) BETWEEN 1 AND 1024),
    -- Contacts, and only contacts, forward to a target address.
    target_address TEXT CHECK (length(target_address) BETWEEN 3 AND 320),
    policy_managed INTEGER NOT NULL DEFAULT 1 CHECK (policy_managed = 0 OR policy_managed = 1),
    source TEXT CHECK (length(source) BETWEEN 1 AND 64),
    stamped_by_policy_id INTEGER REFERENCES recipient_policy (id) ON DELETE SET NULL,
    CHECK ((kind = 'contact') = (target_address IS NOT NULL))
) STRICT;
CREATE TABLE recipient_policy (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    -- 1 is the highest. Dense 1..N is kept by the store; UNIQUE stops two policies tying.
    priority INTEGER NOT NULL UNIQUE CHECK (priority >= 1),
    -- RFC 4515 filter text, verbatim.
    filter TEXT NOT NULL CHECK (length(filter) BETWEEN 1 AND 4096),
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled = 0 OR enabled = 1),
    is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default = 0 OR is_default = 1)
) STRICT;
CREATE TRIGGER recipient_policy_default_fixed
BEFORE UPDATE OF name, filter, enabled, is_default ON recipient_policy
WHEN old.is_default = 1 OR new.is_default = 1
BEGIN
    SELECT RAISE(ABORT, 'the Default Policy keeps its name and filter and stays enabled; only its templates change')
    WHERE new.name IS NOT old.name OR new.filter IS NOT old.filter
       OR new.enabled IS NOT old.enabled OR new.is_default IS NOT old.is_default;
END;
CREATE TRIGGER recipient_policy_keep_default
BEFORE DELETE ON recipient_policy
WHEN old.is_default = 1
BEGIN
    SELECT RAISE(ABORT, 'the Default Policy cannot be removed');
END;
CREATE UNIQUE INDEX recipient_policy_one_default ON recipient_policy (is_default) WHERE is_default = 1;
CREATE INDEX recipient_stamped_by ON recipient (stamped_by_policy_id);
CREATE TABLE server_setting (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    -- Exchange's "forward all mail with unresolved recipients to host"; NULL when unset.
    unresolved_host TEXT CHECK (length(unresolved_host) BETWEEN 1 AND 270),
    dns_delivery INTEGER NOT NULL DEFAULT 1 CHECK (dns_delivery = 0 OR dns_delivery = 1)
, recipient_delimiter TEXT NOT NULL DEFAULT '+'
    CHECK (length(recipient_delimiter) <= 1), delivery_transport TEXT NOT NULL DEFAULT 'virtual'
    CHECK (delivery_transport = 'virtual' OR (delivery_transport LIKE 'lmtp:%' AND length(delivery_transport) <= 300))) STRICT;
CREATE TABLE smart_host (
    id INTEGER PRIMARY KEY,
    connector_id INTEGER NOT NULL REFERENCES connector (id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 1),
    -- As Postfix writes a next hop: [10.0.0.5], [host]:2525, relay.example.net.
    host TEXT NOT NULL CHECK (length(host) BETWEEN 1 AND 270),
    UNIQUE (connector_id, position),
    UNIQUE (connector_id, host)
) STRICT;
CREATE TRIGGER smart_host_not_on_dns_connector
BEFORE INSERT ON smart_host
WHEN (SELECT uses_dns FROM connector WHERE id = new.connector_id) = 1
BEGIN
    SELECT RAISE(ABORT, 'a connector that delivers by DNS has no smart hosts');
END;
