-- PostgreSQL only (Flyway callback, before the migrations): the migrations name the SQL standard's
-- large-object types, which the embedded database has and PostgreSQL does not. Declared here as
-- domains over bytea and text, one set of migrations serves both databases unchanged.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE t.typname = 'blob' AND n.nspname = current_schema()) THEN
    CREATE DOMAIN blob AS bytea;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE t.typname = 'clob' AND n.nspname = current_schema()) THEN
    CREATE DOMAIN clob AS text;
  END IF;
END
$$;
