-- v0002: find an address's owner whatever its type. A policy may not stamp an SMTP address
-- that another recipient holds under any type (spec §2, collisions); UNIQUE (type, address)
-- leads with type and cannot answer that. NOCASE comes from the column.
CREATE INDEX proxy_address_address ON proxy_address (address);
