package dev.dynsni.core;

import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A {@link DataSource} over one open connection, for Flyway: every {@link #getConnection()} hands out
 * the same connection behind a view whose {@code close()} does nothing, so the caller's connection (a
 * pooled one, or the admin tool's only one) survives the migration and stays the caller's to close.
 */
final class SingleConnectionDataSource implements DataSource
{
    private final Connection connection;

    SingleConnectionDataSource(Connection connection)
    {
        this.connection = connection;
    }

    @Override
    public Connection getConnection()
    {
        return (Connection)Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[]{Connection.class}, (proxy, method, args) ->
        {
            switch (method.getName())
            {
                case "close":
                    return null;
                case "isClosed":
                    return connection.isClosed();
                default:
                    try
                    {
                        return method.invoke(connection, args);
                    }
                    catch (InvocationTargetException x)
                    {
                        throw x.getCause();
                    }
            }
        });
    }

    @Override
    public Connection getConnection(String username, String password)
    {
        return getConnection();
    }

    @Override
    public PrintWriter getLogWriter()
    {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out)
    {
    }

    @Override
    public void setLoginTimeout(int seconds)
    {
    }

    @Override
    public int getLoginTimeout()
    {
        return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException
    {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException
    {
        if (type.isInstance(this))
            return type.cast(this);
        throw new SQLException("not a wrapper of " + type.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> type)
    {
        return type.isInstance(this);
    }
}
