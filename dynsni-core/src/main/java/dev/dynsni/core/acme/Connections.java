package dev.dynsni.core.acme;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Where ACME's PostgreSQL connections come from: a node's pool ({@code DataSource::getConnection}),
 * or the admin tool's plain connections. Every connection obtained is closed by the caller after one
 * short unit of work.
 */
@FunctionalInterface
public interface Connections
{
    Connection get() throws SQLException;
}
