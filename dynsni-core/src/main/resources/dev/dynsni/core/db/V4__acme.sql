-- ACME: what the fleet shares to obtain and renew certificates (AcmeService). Issued certificates
-- themselves go into ${schema}.certificate like imported ones (CertificateWriter).

-- One account per ACME directory, registered once by whichever node (or dynsni acme register) comes
-- first and reused by all. The account key is PEM; key_encoding as certificate.key_encoding: 'plain'
-- or aes256gcm:<keyId> (MasterKeys, with the directory URL and 'acme-account' as associated data).
CREATE TABLE ${schema}.acme_account
(
    directory_url text        PRIMARY KEY,
    key_pem       text        NOT NULL,
    key_encoding  text        NOT NULL DEFAULT 'plain',
    account_url   text,
    email         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Names the permission policy allows on demand: an exact lower-case host, or *.parent for the names
-- one label below parent (dynsni allow / disallow).
CREATE TABLE ${schema}.acme_allowed
(
    name       text        PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Every change of the rules (dynsni allow / disallow, or plain SQL) NOTIFYs ${challengeChannel} with
-- the schema and ChangeFeed.ACME_RULES_SUFFIX: nodes then forget the permission answers they remember, so a change applies at once.
CREATE FUNCTION ${schema}.acme_allowed_notify() RETURNS trigger LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_notify('${challengeChannel}', TG_TABLE_SCHEMA || '${rulesSuffix}');
    RETURN NULL;
END
$$;

CREATE TRIGGER acme_allowed_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${schema}.acme_allowed
    FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.acme_allowed_notify();

-- Pending challenges, published by the ordering node before it asks the CA to validate and withdrawn
-- when the order ends, so that whichever node the CA reaches answers. type is 'http-01' (looked up by
-- token) or 'tls-alpn-01' (looked up by host; key_authorization is then what the acmeIdentifier
-- extension digests). Rows past expires_at are ignored and pruned.
CREATE TABLE ${schema}.acme_challenge
(
    host              text        NOT NULL,
    type              text        NOT NULL,
    token             text        NOT NULL,
    key_authorization text        NOT NULL,
    expires_at        timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT acme_challenge_pk PRIMARY KEY (host, type),
    CONSTRAINT acme_challenge_type_known CHECK (type IN ('http-01', 'tls-alpn-01'))
);

CREATE INDEX acme_challenge_token_idx ON ${schema}.acme_challenge (token);

-- Every change of a pending challenge NOTIFYs ${challengeChannel} with the schema as payload; nodes
-- then re-read the (small) table.
CREATE FUNCTION ${schema}.acme_challenge_notify() RETURNS trigger LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_notify('${challengeChannel}', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;

CREATE TRIGGER acme_challenge_notify
    AFTER INSERT OR UPDATE OR DELETE ON ${schema}.acme_challenge
    FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.acme_challenge_notify();

-- One row per name ACME issues for: the fleet-wide lease (one order per name at a time; a lease past
-- lease_until is free again), the backoff after failures (attempts counts failures in a row,
-- next_attempt_at is when the name may be ordered again), and what the last issuance gave.
-- state: 'ordering' (leased), 'issued', 'failed'. renew_requested: dynsni acme renew asked the renewal
-- leader to renew now.
CREATE TABLE ${schema}.acme_order
(
    name            text        PRIMARY KEY,
    state           text        NOT NULL,
    lease_holder    text,
    lease_until     timestamptz,
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_error      text,
    not_before      timestamptz,
    not_after       timestamptz,
    renew_requested boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT acme_order_state_known CHECK (state IN ('ordering', 'issued', 'failed'))
);

CREATE INDEX acme_order_not_after_idx ON ${schema}.acme_order (not_after);

-- One row per order started, for the fleet's budgets: orders per hour per directory, orders per week per
-- registered domain (its last two labels: example.co.uk counts as co.uk, stricter than the CA's public
-- suffix rule, never looser). Rows older than 8 days are pruned by the node that starts an order.
CREATE TABLE ${schema}.acme_order_log
(
    id                bigserial   PRIMARY KEY,
    directory_url     text        NOT NULL,
    name              text        NOT NULL,
    registered_domain text        NOT NULL,
    node              text        NOT NULL,
    started_at        timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX acme_order_log_directory_idx ON ${schema}.acme_order_log (directory_url, started_at);
CREATE INDEX acme_order_log_domain_idx ON ${schema}.acme_order_log (registered_domain, started_at);
