-- v0005: the resolver's lookup reads one index, not index then table (issue 5: mailns serve
-- answers Postfix one lookup at a time, so every page read is latency). The index carries what
-- the routed lookup needs of a proxy address; it starts with the address, so it also serves
-- every lookup v0002's index did, and replaces it (one index to maintain on writes, not two).
CREATE INDEX proxy_address_route ON proxy_address (address, type, is_primary, recipient_id);
DROP INDEX proxy_address_address;
