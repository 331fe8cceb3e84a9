-- Writers of one stored name take turns: every write of a certificate row first locks the name's row
-- in certificate_name_lock (created on first use) and keeps it until commit, so the version the
-- stamp trigger draws next is larger than the version of every change of that name committed before,
-- and a change of the name is committed after every change with a smaller version. Per name, version
-- order is then commit order across key types: the newest version a reader saw for a name (its EC and
-- RSA rows together) is the version of the last change it saw, and a change it did not see carries a
-- larger one. Nodes rely on that when they compare versions (the in-process cache's staleness check,
-- the Redis fence). A row lock (not pg_advisory_xact_lock) so that a statement writing many rows
-- takes no entry of PostgreSQL's shared lock table per row.
CREATE TABLE ${schema}.certificate_name_lock
(
    host text PRIMARY KEY
);

CREATE FUNCTION ${schema}.certificate_lock_name(name text) RETURNS void LANGUAGE plpgsql AS
$$
BEGIN
    INSERT INTO ${schema}.certificate_name_lock (host) VALUES (name)
        ON CONFLICT (host) DO UPDATE SET host = EXCLUDED.host;
END
$$;

CREATE OR REPLACE FUNCTION ${schema}.certificate_stamp() RETURNS trigger LANGUAGE plpgsql AS
$$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM ${schema}.certificate_lock_name(OLD.host);
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.host <> NEW.host THEN
        PERFORM ${schema}.certificate_lock_name(OLD.host);
    END IF;
    PERFORM ${schema}.certificate_lock_name(NEW.host);
    NEW.version := nextval('${schema}.certificate_version_seq');
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
$$;

DROP TRIGGER certificate_stamp ON ${schema}.certificate;
CREATE TRIGGER certificate_stamp
    BEFORE INSERT OR UPDATE OR DELETE ON ${schema}.certificate
    FOR EACH ROW EXECUTE FUNCTION ${schema}.certificate_stamp();

-- A name without certificates keeps no lock row (deleted with its last certificate, still locked).
CREATE FUNCTION ${schema}.certificate_unlock_name() RETURNS trigger LANGUAGE plpgsql AS
$$
BEGIN
    DELETE FROM ${schema}.certificate_name_lock l
        WHERE l.host = OLD.host AND NOT EXISTS (SELECT 1 FROM ${schema}.certificate c WHERE c.host = OLD.host);
    RETURN NULL;
END
$$;

CREATE TRIGGER certificate_unlock_name
    AFTER DELETE ON ${schema}.certificate
    FOR EACH ROW EXECUTE FUNCTION ${schema}.certificate_unlock_name();

INSERT INTO ${schema}.certificate_name_lock (host) SELECT DISTINCT host FROM ${schema}.certificate ON CONFLICT DO NOTHING;
