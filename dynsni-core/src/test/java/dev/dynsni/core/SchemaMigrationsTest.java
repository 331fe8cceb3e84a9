package dev.dynsni.core;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.dynsni.testing.TestServices;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Flyway runs the scripts SchemaMigrations lists, takes over schemas of the earlier runner, and nodes may migrate together. */
class SchemaMigrationsTest
{
    private final String schema = TestServices.newSchema();

    @AfterEach
    void dropSchema()
    {
        TestServices.dropSchema(schema);
    }

    private List<String> column(Connection connection, String sql) throws Exception
    {
        List<String> values = new ArrayList<>();
        try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql))
        {
            while (rs.next())
                values.add(rs.getString(1));
        }
        return values;
    }

    @Test
    void freshSchema_everyListedScriptApplied_inOrder_once() throws Exception
    {
        try (Connection connection = TestServices.connect())
        {
            assertEquals(0, SchemaMigrations.currentVersion(connection, schema));
            assertEquals(SchemaMigrations.latestVersion(), SchemaMigrations.migrate(connection, schema));
            assertFalse(connection.isClosed(), "the caller's connection stays open");
            assertEquals(SchemaMigrations.SCRIPTS, column(connection, "SELECT script FROM " + schema + "." + SchemaMigrations.HISTORY_TABLE + " WHERE success AND version IS NOT NULL ORDER BY installed_rank"),
                "Flyway found exactly the scripts SchemaMigrations lists");
            assertEquals(SchemaMigrations.latestVersion(), SchemaMigrations.migrate(connection, schema));
            assertEquals(SchemaMigrations.SCRIPTS.size(), column(connection, "SELECT script FROM " + schema + "." + SchemaMigrations.HISTORY_TABLE + " WHERE version IS NOT NULL").size(), "nothing applied twice");
        }
    }

    @Test
    void schemaOfTheEarlierRunner_takenOverAtItsVersion_dataKept() throws Exception
    {
        try (Connection connection = TestServices.connect(); Statement statement = connection.createStatement())
        {
            // What the runner before Flyway left: its scripts applied and recorded in schema_version.
            statement.execute("CREATE SCHEMA " + schema);
            statement.execute("CREATE TABLE " + schema + ".schema_version (version int PRIMARY KEY, script text NOT NULL, installed_at timestamptz NOT NULL DEFAULT now())");
            for (int version = 1; version <= 3; version++)
            {
                String script = SchemaMigrations.SCRIPTS.get(version - 1);
                statement.execute(load(script).replace("${schema}", schema).replace("${channel}", ChangeFeed.CHANNEL));
                statement.execute("INSERT INTO " + schema + ".schema_version (version, script) VALUES (" + version + ", '" + script + "')");
            }
            statement.execute("INSERT INTO " + schema + ".certificate (host, key_type, chain_pem, key_pem) VALUES ('kept.example', 'EC', 'chain', 'key')");
            assertEquals(3, SchemaMigrations.currentVersion(connection, schema));

            assertEquals(SchemaMigrations.latestVersion(), SchemaMigrations.migrate(connection, schema));
            assertEquals(List.of("kept.example"), column(connection, "SELECT host FROM " + schema + ".certificate"));
            List<String> history = column(connection, "SELECT version || ' ' || type FROM " + schema + "." + SchemaMigrations.HISTORY_TABLE + " ORDER BY installed_rank");
            assertEquals("3 BASELINE", history.get(0), history::toString);
            assertEquals(SchemaMigrations.latestVersion() - 3, history.size() - 1, history::toString);
        }
    }

    @Test
    void nodesMigratingTogether_bothSucceed() throws Exception
    {
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try
        {
            Callable<Integer> migrate = () ->
            {
                try (Connection connection = TestServices.connect())
                {
                    return SchemaMigrations.migrate(connection, schema);
                }
            };
            List<Future<Integer>> results = pool.invokeAll(List.of(migrate, migrate, migrate));
            for (Future<Integer> result : results)
                assertEquals(SchemaMigrations.latestVersion(), result.get());
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    @Test
    void badSchemaName_refusedBeforeAnySql() throws Exception
    {
        try (Connection connection = TestServices.connect())
        {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> SchemaMigrations.migrate(connection, "Bad-Name"));
            assertEquals("invalid schema name 'Bad-Name': use lower-case letters, digits and _", x.getMessage());
        }
    }

    private static String load(String script) throws Exception
    {
        try (InputStream in = SchemaMigrations.class.getResourceAsStream("/dev/dynsni/core/db/" + script))
        {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
