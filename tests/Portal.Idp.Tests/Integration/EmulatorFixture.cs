using Microsoft.Extensions.DependencyInjection;
using Portal.IdpEmulator;

namespace Portal.Idp.Tests.Integration;

/// <summary>One emulator over real HTTP on 127.0.0.1 for every integration test, and the adapter as the application builds it.</summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    public const string Token = "integration-okta-token-4f9c2a";

    private ServiceProvider? _services;
    private EmulatorHost? _host;

    public EmulatorHost Host => _host ?? throw new InvalidOperationException("The emulator is not running.");

    public EmulatorState State => Host.State;

    public ICallerDirectory Directory { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _host = await EmulatorHost.StartAsync(new EmulatorOptions { OktaApiToken = Token });
        _services = new ServiceCollection().AddLogging().AddPortalIdp().BuildServiceProvider();
        Directory = DirectoryWithToken(Token);
    }

    public ICallerDirectory DirectoryWithToken(string token) =>
        _services!.GetRequiredService<ICallerDirectoryFactory>().Create(new IdpConnection("tenant-demo", IdpKind.Okta, Host.BaseUrl, token));

    public ICallerDirectory DirectoryWith(OktaConnectionSettings settings) =>
        _services!.GetRequiredService<ICallerDirectoryFactory>().Create(new IdpConnection("tenant-demo", IdpKind.Okta, Host.BaseUrl, Token) { Okta = settings });

    public string IdOf(string login) => State.FindCaller(login)!.Id;

    public string FactorOf(string login, string factorType) => State.FindCaller(login)!.Factors.First(f => f.FactorType == factorType).Id;

    /// <summary>A caller of this test's own (with an active TOTP factor), so that tests that change an account do not affect each other.</summary>
    public DemoCaller NewCaller(string status = "ACTIVE")
    {
        var login = $"t{Guid.NewGuid():N}@demo.example";
        return State.AddCaller(login, login, "Test", "Caller", status);
    }

    public async Task DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class EmulatorCollection : ICollectionFixture<EmulatorFixture>
{
    public const string Name = "Okta emulator";
}
