-- Signing-key rotation. Each key of an algorithm has a generation, one more than the key
-- before it; the unique index makes two instances (or an instance and the CLI) that rotate
-- at once collide, so exactly one of them creates the next key.

ALTER TABLE signing_keys ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;

-- Number existing keys per algorithm in creation order. Several instances that started at
-- once on an empty table may have left more than one key of an algorithm; they are kept,
-- and the newest signs.
UPDATE signing_keys SET generation = 1 + (
    SELECT COUNT(*) FROM signing_keys AS earlier
    WHERE earlier.alg = signing_keys.alg
      AND (earlier.created_at < signing_keys.created_at
           OR (earlier.created_at = signing_keys.created_at AND earlier.kid < signing_keys.kid))
);

CREATE UNIQUE INDEX signing_keys_alg_generation ON signing_keys(alg, generation);

-- Of such twins, the older ones stopped signing when the next was created: retire them
-- then, so they leave JWKS once the tokens they may have signed have expired.
UPDATE signing_keys SET retired_at = (
    SELECT MIN(newer.created_at) FROM signing_keys AS newer
    WHERE newer.alg = signing_keys.alg AND newer.generation > signing_keys.generation
)
WHERE retired_at IS NULL
  AND EXISTS (
    SELECT 1 FROM signing_keys AS newer
    WHERE newer.alg = signing_keys.alg AND newer.generation > signing_keys.generation
);
