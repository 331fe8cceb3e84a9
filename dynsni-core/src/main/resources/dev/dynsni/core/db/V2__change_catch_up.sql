-- Catching up after a gap in the change feed (a node whose LISTEN connection was down misses the
-- notifications sent meanwhile). Every write stamps the id of its transaction (txid, xid8: 64 bits,
-- never wraps), and every removal leaves a tombstone with its version and transaction. A listening
-- node remembers the oldest transaction still running when it last heard the feed (its watermark,
-- pg_snapshot_xmin of a snapshot taken on its LISTEN connection); after a gap it re-subscribes and then
-- reads every row and tombstone whose transaction is not older than the watermark: a superset of the
-- changes whose notifications it may have missed, however long their transactions ran.
-- TRUNCATE, which fires no row trigger, notifies "*" (drop everything) and leaves a "*" tombstone.
ALTER TABLE ${schema}.certificate ADD COLUMN txid xid8;

CREATE INDEX certificate_txid_idx ON ${schema}.certificate (txid);

CREATE TABLE ${schema}.certificate_removed
(
    host       text        NOT NULL,
    version    bigint      NOT NULL,
    txid       xid8        NOT NULL DEFAULT pg_current_xact_id(),
    removed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX certificate_removed_txid_idx ON ${schema}.certificate_removed (txid);
CREATE INDEX certificate_removed_at_idx ON ${schema}.certificate_removed (removed_at);

CREATE FUNCTION ${schema}.certificate_txid() RETURNS trigger LANGUAGE plpgsql AS
$$
BEGIN
    NEW.txid := pg_current_xact_id();
    RETURN NEW;
END
$$;

CREATE TRIGGER certificate_txid
    BEFORE INSERT OR UPDATE ON ${schema}.certificate
    FOR EACH ROW EXECUTE FUNCTION ${schema}.certificate_txid();

-- The notification of a change, as before, plus a tombstone for a removal (a renamed row's old name
-- is a removal too). Tombstones older than 7 days are pruned here: a node away longer starts over.
CREATE OR REPLACE FUNCTION ${schema}.certificate_notify() RETURNS trigger LANGUAGE plpgsql AS
$$
DECLARE
    removed bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        removed := nextval('${schema}.certificate_version_seq');
        INSERT INTO ${schema}.certificate_removed (host, version) VALUES (OLD.host, removed);
        DELETE FROM ${schema}.certificate_removed WHERE removed_at < clock_timestamp() - interval '7 days';
        PERFORM pg_notify('${channel}', TG_TABLE_SCHEMA || '|' || OLD.host || '|' || removed);
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.host <> NEW.host THEN
        INSERT INTO ${schema}.certificate_removed (host, version) VALUES (OLD.host, NEW.version);
        PERFORM pg_notify('${channel}', TG_TABLE_SCHEMA || '|' || OLD.host || '|' || NEW.version);
    END IF;
    PERFORM pg_notify('${channel}', TG_TABLE_SCHEMA || '|' || NEW.host || '|' || NEW.version);
    RETURN NEW;
END
$$;

CREATE FUNCTION ${schema}.certificate_truncate() RETURNS trigger LANGUAGE plpgsql AS
$$
DECLARE
    removed bigint := nextval('${schema}.certificate_version_seq');
BEGIN
    INSERT INTO ${schema}.certificate_removed (host, version) VALUES ('*', removed);
    PERFORM pg_notify('${channel}', TG_TABLE_SCHEMA || '|*|' || removed);
    RETURN NULL;
END
$$;

CREATE TRIGGER certificate_truncate
    AFTER TRUNCATE ON ${schema}.certificate
    FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.certificate_truncate();
