using System.Net.Sockets;
using System.Security.Cryptography;

namespace Portal.IdpEmulator;

/// <summary>Settings of the embedded demo (section <c>Portal:Emulator</c>, docs/configuration.md); Development only.</summary>
public sealed class EmbeddedDemoOptions
{
    public const string Section = "Portal:Emulator";

    public bool Enabled { get; set; }

    public int Port { get; set; } = 5081;
}

/// <summary>
/// The embedded demo: with <c>Portal:Emulator:Enabled</c> the portal's Debug build calls
/// <see cref="AddIdpEmulatorDemo"/> once while it is being built (docs/architecture.md, "The emulator is in Debug
/// builds only"), and this starts the emulator in-process on 127.0.0.1 and adds the demo organisations
/// (<see cref="DemoTenants"/>) to its settings, so that <c>dotnet run</c> alone gives a working demo.
/// <para>
/// The emulator's credentials are random per run and reach the portal the way a Secret Manager mount does: as
/// <c>file:</c> references to files only the user can read (0600, in a 0700 folder of their own), removed when
/// the portal stops. Not environment variables, which every child process inherits and which stay readable for the
/// process's life; and not secret values in settings, which the portal refuses by design (docs/configuration.md).
/// </para>
/// </summary>
public static partial class EmbeddedDemo
{
    /// <summary>
    /// Starts the emulator and adds the demo organisations when <c>Portal:Emulator:Enabled</c> is true; returns the
    /// running emulator, or null when the demo is off.
    /// </summary>
    public static EmulatorHost? AddIdpEmulatorDemo(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Configuration.GetSection(EmbeddedDemoOptions.Section).Get<EmbeddedDemoOptions>() ?? new EmbeddedDemoOptions();
        if (!options.Enabled)
        {
            return null;
        }

        // The portal's own keys live in the local data folder, so that pseudonyms and the key ring survive a restart.
        CreateKeyFileIfMissing(builder.Configuration["Portal:Web:PseudonymisationKeySecret"]);
        CreateKeyFileIfMissing(builder.Configuration["Portal:Web:KeyRingEncryptionKeySecret"]);

        var secrets = new SecretFolder();

        // Also when the portal stops before it has started (a setting refused at start-up).
        AppDomain.CurrentDomain.ProcessExit += (_, _) => secrets.Dispose();
        EmulatorHost host;
        try
        {
            var emulatorOptions = new EmulatorOptions { Url = $"http://127.0.0.1:{options.Port}", OktaApiToken = secrets.Create("okta-api-token") };
            emulatorOptions.Clients.Add(new EmulatorClient(DemoTenants.OktaAgentClientId, secrets.Create("okta-agent-client")));
            emulatorOptions.EntraAgentClients.Add(new EmulatorClient(DemoTenants.EntraAgentClientId, secrets.Create("entra-agent-client")));
            emulatorOptions.GraphClients.Add(new EmulatorClient(DemoTenants.GraphClientId, secrets.Create("graph-client")));
            emulatorOptions.StepUpClients.Add(new EmulatorClient(DemoTenants.StepUpClientId, secrets.Create("step-up-client")));
            host = StartEmulator(emulatorOptions, options.Port);
        }
        catch
        {
            secrets.Dispose();
            throw;
        }

        AddDemoTenants(builder.Configuration, host.BaseUrl, host.MailSinkPort, secrets);
        builder.Services.AddSingleton(host);
        builder.Services.AddSingleton(secrets);
        builder.Services.AddHostedService<DemoLifetime>();
        return host;
    }

    private static EmulatorHost StartEmulator(EmulatorOptions options, int port)
    {
        try
        {
            return EmulatorHost.StartAsync(options).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is IOException or SocketException || ex.InnerException is SocketException)
        {
            throw new InvalidOperationException($"The embedded IdP emulator could not listen on 127.0.0.1:{port}. Free the port or set Portal:Emulator:Port.", ex);
        }
    }

    /// <summary>
    /// Each demo organisation at the index of a configured tenant with its id, or after the configured ones: the demo
    /// follows the emulator to whatever port it was given, and sends its recovery notices to the emulator's mail sink.
    /// </summary>
    private static void AddDemoTenants(ConfigurationManager configuration, Uri root, int mailSinkPort, SecretFolder secrets)
    {
        var references = new DemoSecretReferences(secrets.Reference("okta-api-token"), secrets.Reference("okta-agent-client"))
        {
            StepUpClient = secrets.Reference("step-up-client"),
            EntraAgentClient = secrets.Reference("entra-agent-client"),
            GraphClient = secrets.Reference("graph-client"),
        };
        var configured = configuration.GetSection("Portal:Tenants").GetChildren().Select(t => t["Id"]).ToList();
        var settings = new Dictionary<string, string?>();
        foreach (var tenant in new[] { DemoTenants.Okta(root, references, mailSinkPort), DemoTenants.Entra(root, references, mailSinkPort) })
        {
            var index = configured.IndexOf(tenant["Id"]);
            if (index < 0)
            {
                index = configured.Count;
                configured.Add(tenant["Id"]);
            }

            foreach (var (key, value) in tenant)
            {
                settings[$"Portal:Tenants:{index}:{key}"] = value;
            }
        }

        configuration.AddInMemoryCollection(settings);
    }

    private static void CreateKeyFileIfMissing(string? reference)
    {
        if (reference is null || !reference.StartsWith("file:", StringComparison.Ordinal))
        {
            return;
        }

        var path = Path.GetFullPath(reference[5..]);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            SecretFolder.WriteOwnerOnly(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        }
    }

    [LoggerMessage(EventId = 9001, EventName = "EmbeddedEmulatorRunning", Level = LogLevel.Warning, Message = "The embedded IdP emulator is running at {BaseUrl}: development only")]
    private static partial void Running(ILogger logger, Uri baseUrl);

    /// <summary>A folder of the user's own (0700) holding this run's demo credentials (0600), deleted with the run.</summary>
    internal sealed class SecretFolder : IDisposable
    {
        private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("portal-demo-secrets-");

        public string Create(string name)
        {
            var value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
            WriteOwnerOnly(Path.Combine(_folder.FullName, name), value);
            return value;
        }

        public string Reference(string name) => "file:" + Path.Combine(_folder.FullName, name);

        public static void WriteOwnerOnly(string path, string value)
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var writer = new StreamWriter(path, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), options);
            writer.Write(value);
        }

        public void Dispose()
        {
            try
            {
                _folder.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Already gone; a folder left by a killed run is the user's own and unreadable to others.
            }
        }
    }

    private sealed class DemoLifetime(EmulatorHost host, SecretFolder secrets, ILogger<DemoLifetime> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            Running(logger, host.BaseUrl);
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            await host.DisposeAsync();
            secrets.Dispose();
        }
    }
}
