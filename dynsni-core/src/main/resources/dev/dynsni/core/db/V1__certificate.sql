-- One row per (stored name, key type). The server trusts only the PEM columns: not_before,
-- not_after and fingerprint are informational (filled by the admin tool) so that plain SQL writers
-- may leave them empty. version and updated_at are stamped by a trigger on every write.
CREATE SEQUENCE ${schema}.certificate_version_seq;

CREATE TABLE ${schema}.certificate
(
    host         text        NOT NULL,
    key_type     text        NOT NULL,
    chain_pem    text        NOT NULL,
    key_pem      text        NOT NULL,
    key_encoding text        NOT NULL DEFAULT 'plain',
    not_before   timestamptz,
    not_after    timestamptz,
    fingerprint  text,
    version      bigint      NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT certificate_pk PRIMARY KEY (host, key_type),
    CONSTRAINT certificate_host_lower CHECK (host = lower(host) AND length(host) BETWEEN 1 AND 255),
    CONSTRAINT certificate_key_type_known CHECK (key_type IN ('EC', 'RSA', 'RSASSA-PSS', 'EdDSA'))
);

CREATE INDEX certificate_not_after_idx ON ${schema}.certificate (not_after);

CREATE FUNCTION ${schema}.certificate_stamp() RETURNS trigger LANGUAGE plpgsql AS
$$
BEGIN
    NEW.version := nextval('${schema}.certificate_version_seq');
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
$$;

CREATE TRIGGER certificate_stamp
    BEFORE INSERT OR UPDATE ON ${schema}.certificate
    FOR EACH ROW EXECUTE FUNCTION ${schema}.certificate_stamp();

-- Every node LISTENs on ${channel}; the payload is schema|host|version (ChangeFeed). For a delete the
-- version is a fresh sequence value, larger than any version a reader could have seen before.
CREATE FUNCTION ${schema}.certificate_notify() RETURNS trigger LANGUAGE plpgsql AS
$$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('${channel}', TG_TABLE_SCHEMA || '|' || OLD.host || '|' || nextval('${schema}.certificate_version_seq'));
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.host <> NEW.host THEN
        PERFORM pg_notify('${channel}', TG_TABLE_SCHEMA || '|' || OLD.host || '|' || NEW.version);
    END IF;
    PERFORM pg_notify('${channel}', TG_TABLE_SCHEMA || '|' || NEW.host || '|' || NEW.version);
    RETURN NEW;
END
$$;

CREATE TRIGGER certificate_notify
    AFTER INSERT OR UPDATE OR DELETE ON ${schema}.certificate
    FOR EACH ROW EXECUTE FUNCTION ${schema}.certificate_notify();
