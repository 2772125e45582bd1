-- Tamper-evident audit trail (postgres).

-- Sealing: each committed event gets the next position in the chain (chain_seq), the hash of
-- the event before it (chain_prev) and its own hash, SHA-256 of chain_prev and its columns.
-- Inserts leave them NULL, so writing an event costs what it did; a background sealer fills
-- them in. Hashes are lowercase hex.
ALTER TABLE audit_events ADD COLUMN chain_seq BIGINT;
ALTER TABLE audit_events ADD COLUMN chain_prev TEXT;
ALTER TABLE audit_events ADD COLUMN chain_hash TEXT;
-- Partial, so that an insert (chain_seq NULL) does not touch it.
CREATE UNIQUE INDEX audit_events_chain_seq ON audit_events(chain_seq) WHERE chain_seq IS NOT NULL;
-- What the sealer looks for, in id order.
CREATE INDEX audit_events_unsealed ON audit_events(id) WHERE chain_seq IS NULL;

-- The end of the chain, one row. A sealer updates it first in its transaction, which makes
-- the row the lock that keeps two instances from sealing at once.
CREATE TABLE audit_chain (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    head_seq         BIGINT NOT NULL,
    head_hash        TEXT NOT NULL,
    checkpoint_seq   BIGINT NOT NULL,
    checkpointed_at  BIGINT NOT NULL
);
INSERT INTO audit_chain (id, head_seq, head_hash, checkpoint_seq, checkpointed_at)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0, 0);

-- Signed statements that the chain ended at seq with head_hash: a JWS by the provider's key.
CREATE TABLE audit_checkpoints (
    seq         BIGINT PRIMARY KEY,
    head_hash   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    jws         TEXT NOT NULL
);

-- The public keys that signed checkpoints, kept after the signing key itself is deleted.
-- sealed_jwk is the public JWK encrypted under the key-encryption key (kid as associated
-- data): whoever can write to the database but lacks that key cannot add a key of their own.
CREATE TABLE audit_keys (
    kid         TEXT PRIMARY KEY,
    public_jwk  TEXT NOT NULL,
    sealed_jwk  BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);

-- The webhook's place in the chain, one row: events up to delivered_seq were acknowledged.
-- next_attempt_at doubles as the lease of the instance delivering (see logout_deliveries).
CREATE TABLE audit_webhook (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    delivered_seq    BIGINT NOT NULL,
    attempts         BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL
);
INSERT INTO audit_webhook (id, delivered_seq, attempts, next_attempt_at) VALUES (1, 0, 0, 0);
