package dev.dynsni.admin;

import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import dev.dynsni.core.MasterKeys;
import dev.dynsni.core.Setting;
import dev.dynsni.core.Stores;
import picocli.CommandLine.Option;

/**
 * A subcommand that talks to the stores: {@code --jetty-base} and the setting flags
 * ({@link SettingOptions}, added by {@link DynSni#newCommandLine(DynSni)}), each also accepted
 * before the command's name, resolved into {@link Settings}.
 */
abstract class StoreCommand extends BaseCommand
{
    /** The setting flags given after the command's name. */
    final Map<Setting, Settings.Flag> flags = new EnumMap<>(Setting.class);

    @Option(names = "--jetty-base", paramLabel = "DIR", description = DynSni.JETTY_BASE_DESCRIPTION)
    Path jettyBase;

    private Settings settings;

    Settings settings()
    {
        if (settings == null)
        {
            Map<Setting, Settings.Flag> given = new EnumMap<>(Setting.class);
            given.putAll(root.flags);
            given.putAll(flags);
            settings = Settings.resolve(given, root.environment, jettyBase != null ? jettyBase : root.jettyBase);
        }
        return settings;
    }

    /** @return a connection to PostgreSQL whose schema exists at the version this tool knows */
    Connection openDatabase()
    {
        Connection connection = Database.open(settings());
        Database.requireSchema(connection, settings());
        return connection;
    }

    /**
     * @return the master keys of {@code masterKeyFile} and {@code previousMasterKeyFiles}, built as a
     *     node builds them; null when no master key is configured
     */
    MasterKeys masterKeys()
    {
        try
        {
            return Stores.masterKeys(settings().core());
        }
        catch (IllegalStateException x)
        {
            Settings.Source source = settings().source(Setting.MASTER_KEY_FILE);
            throw CliException.usage(x.getMessage() + " (from " + source.text() + ")");
        }
    }

    /** @return the master key file and the previous ones, as configured */
    List<Path> configuredMasterKeyFiles()
    {
        List<Path> files = new ArrayList<>();
        if (settings().masterKeyFile() != null)
            files.add(settings().masterKeyFile());
        files.addAll(settings().previousMasterKeyFiles());
        return files;
    }

    /**
     * @return the Redis tier, connected, or null when none is configured
     * @throws CliException unreachable when Redis does not answer, usage when its settings are bad
     */
    Redis openRedis()
    {
        return Redis.open(settings());
    }

    /** @return the Redis tier, or null when none is configured or it cannot be reached (with a warning) */
    Redis openRedisOrWarn(String consequence)
    {
        try
        {
            return openRedis();
        }
        catch (CliException x)
        {
            if (x.getExitCode() != DynSni.EXIT_UNREACHABLE)
                throw x;
            err().println("warning: " + x.getMessage() + "; " + consequence);
            err().flush();
            return null;
        }
    }
}
