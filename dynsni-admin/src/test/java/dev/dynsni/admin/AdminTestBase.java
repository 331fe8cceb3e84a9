package dev.dynsni.admin;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.dynsni.testing.TestServices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Runs the tool in-process against the real PostgreSQL and Redis, in a schema and key prefix of
 * its own per test class, both removed afterwards.
 */
abstract class AdminTestBase
{
    static String schema;
    static String keyPrefix;

    /** The outcome of one command. */
    record Result(int exit, String out, String err)
    {
        List<String> errLines()
        {
            List<String> lines = new ArrayList<>();
            for (String line : err.split("\n"))
            {
                if (!line.isBlank())
                    lines.add(line);
            }
            return lines;
        }

        @Override
        public String toString()
        {
            return "exit=" + exit + "\n--- out\n" + out + "--- err\n" + err;
        }
    }

    @BeforeAll
    static void createStores()
    {
        schema = TestServices.newSchema();
        keyPrefix = TestServices.newKeyPrefix();
        Result result = run("init-db");
        assertEquals(0, result.exit(), result::toString);
    }

    @AfterAll
    static void dropStores()
    {
        TestServices.dropSchema(schema);
        TestRedis.delete(TestRedis.keysUnder(keyPrefix).toArray(new String[0]));
    }

    static Map<String, String> env()
    {
        Map<String, String> env = new HashMap<>();
        env.put("DYNSNI_JDBC_URL", TestServices.jdbcUrl());
        env.put("DYNSNI_JDBC_SCHEMA", schema);
        env.put("DYNSNI_REDIS_URL", TestServices.redisUrl());
        env.put("DYNSNI_REDIS_KEY_PREFIX", keyPrefix);
        return env;
    }

    static Result run(String... args)
    {
        return runWith(env(), args);
    }

    static Result runWith(Map<String, String> env, String... args)
    {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = DynSni.newCommandLine(new DynSni(env));
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int exit = commandLine.execute(args);
        Result result = new Result(exit, out.toString(), err.toString());
        assertFalse(result.err().contains("\tat "), () -> "stack trace printed: " + result);
        return result;
    }

    static int count(String where) throws SQLException
    {
        try (Connection connection = TestServices.connect();
             PreparedStatement statement = connection.prepareStatement("SELECT count(*) FROM " + schema + ".certificate" + (where == null ? "" : " WHERE " + where));
             ResultSet rs = statement.executeQuery())
        {
            rs.next();
            return rs.getInt(1);
        }
    }

    static List<String> column(String sql) throws SQLException
    {
        List<String> values = new ArrayList<>();
        try (Connection connection = TestServices.connect();
             PreparedStatement statement = connection.prepareStatement(sql.replace("${schema}", schema));
             ResultSet rs = statement.executeQuery())
        {
            while (rs.next())
            {
                values.add(rs.getString(1));
            }
        }
        return values;
    }
}
