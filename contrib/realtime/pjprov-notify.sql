-- pjprov: serve a change of the realtime tables at once (docs/realtime.md).
--
-- Each statement that changes one of these tables sends NOTIFY pjprov, '<table>' when its transaction
-- commits (one per table and transaction: PostgreSQL folds identical notifications). pjprov LISTENs on
-- that channel ([realtime] channel in pjprov.conf) and reloads; without this trigger it still notices
-- changes by polling ([realtime] poll, every 2 s by default).
--
-- Run it once in Asterisk's database, as the tables' owner:
--     psql -d asterisk -f pjprov-notify.sql
-- Add (or remove) tables in the list at the bottom to match the families sorcery.conf maps.

CREATE OR REPLACE FUNCTION pjprov_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pjprov', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['ps_endpoints', 'ps_auths', 'ps_aors', 'ps_transports', 'ps_phoneprovs'] LOOP
        IF to_regclass(t) IS NOT NULL THEN
            EXECUTE format('DROP TRIGGER IF EXISTS pjprov_notify ON %I', t);
            EXECUTE format(
                'CREATE TRIGGER pjprov_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
                'FOR EACH STATEMENT EXECUTE FUNCTION pjprov_notify()', t);
        END IF;
    END LOOP;
END
$$;
