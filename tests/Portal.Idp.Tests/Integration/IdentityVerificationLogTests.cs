using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Portal.Idp.Entra;
using Portal.Idp.Okta;
using Portal.IdpEmulator;

namespace Portal.Idp.Tests.Integration;

/// <summary>
/// Identity verification through Okta (docs/recovery.md): the result Okta writes to its System Log when a user finishes
/// the vendor's check (<c>user.identity_verification</c>), read through the Okta adapter over real HTTP against the
/// emulator (whose System Log answers are checked against Okta's spec in the emulator's tests). Only this caller's
/// first result since the start counts, only Okta's documented pass is a pass, and Entra says it has no such result.
/// </summary>
public sealed class IdentityVerificationLogTests : IAsyncLifetime
{
    private const string LogsApp = "0oa-idv-logs";
    private const string NoLogsApp = "0oa-idv-nologs";
    private const string GraphApp = "5b2d4f60-7a8b-4c9d-8e0f-1a2b3c4d5e11";
    private const string GraphSecret = "idv-graph-secret";
    private static readonly string[] LogsScopes = ["okta.users.read", "okta.logs.read"];
    private static readonly string[] NoLogsScopes = ["okta.users.read"];

    private readonly RSA _key = RSA.Create(2048);
    private EmulatorHost _emulator = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        var options = new EmulatorOptions { OktaApiToken = "idv-okta-token-7c1a" };
        var publicKey = RSA.Create();
        publicKey.ImportParameters(_key.ExportParameters(false));
        options.OktaServiceApps.Add(new EmulatorServiceApp(LogsApp, publicKey, LogsScopes) { RequireDpop = false });
        options.OktaServiceApps.Add(new EmulatorServiceApp(NoLogsApp, publicKey, NoLogsScopes) { RequireDpop = false });
        options.GraphClients.Add(new EmulatorClient(GraphApp, GraphSecret));
        _emulator = await EmulatorHost.StartAsync(options);
        _services = new ServiceCollection().AddLogging().AddPortalIdp().AddPortalEntra().BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _emulator.DisposeAsync();
        _key.Dispose();
    }

    [Fact]
    public async Task NothingYet_ThenTheCallerPasses_Verified_WithOktasEventAsEvidence()
    {
        var caller = NewCaller();
        var directory = Okta(LogsApp, LogsScopes);
        var since = _emulator.State.Now;

        var before = await directory.FindIdentityVerificationAsync(caller.Id, since);
        Assert.True(before.IsSuccess);
        Assert.Equal(IdentityVerificationState.NotYet, before.Value.State);

        var logged = _emulator.State.VerifyIdentity(caller.Login, passed: true);
        var after = await directory.FindIdentityVerificationAsync(caller.Id, since);

        Assert.True(after.IsSuccess);
        Assert.Equal(IdentityVerificationState.Verified, after.Value.State);
        Assert.Equal(logged.Id, after.Value.EventId);
        Assert.Equal("CLAIMS_VERIFIED", after.Value.Reason);
    }

    [Fact]
    public async Task Denied_NotVerified_AndALaterPassInTheSameAttemptDoesNotUndoIt()
    {
        var caller = NewCaller();
        var directory = Okta(LogsApp, LogsScopes);
        var since = _emulator.State.Now;
        _emulator.State.VerifyIdentity(caller.Login, passed: false);
        await Task.Delay(20);
        _emulator.State.VerifyIdentity(caller.Login, passed: true);

        var result = await directory.FindIdentityVerificationAsync(caller.Id, since);

        Assert.Equal(IdentityVerificationState.NotVerified, result.Value.State);
        Assert.Equal("CLAIMS_NOT_VERIFIED", result.Value.Reason);
    }

    [Theory]
    [InlineData("FAILURE", "VENDOR_ERROR")]
    [InlineData("UNKNOWN", null)]
    [InlineData("ALLOW", "CLAIMS_NOT_VERIFIED")]
    public async Task AnOutcomeOtherThanOktasPassOrDenial_NoDecision_NotADenial(string result, string? reason)
    {
        var caller = NewCaller();
        var directory = Okta(LogsApp, LogsScopes);
        var since = _emulator.State.Now;
        _emulator.State.RecordIdentityVerification(caller.Login, result, reason);

        var read = await directory.FindIdentityVerificationAsync(caller.Id, since);

        Assert.Equal(IdentityVerificationState.NoDecision, read.Value.State);
        Assert.Equal(reason ?? result, read.Value.Reason);
    }

    [Fact]
    public async Task AnyDenyReason_NotVerified()
    {
        var caller = NewCaller();
        var since = _emulator.State.Now;
        _emulator.State.RecordIdentityVerification(caller.Login, "DENY", "LIVENESS_CHECK_FAILED");

        Assert.Equal(IdentityVerificationState.NotVerified, (await Okta(LogsApp, LogsScopes).FindIdentityVerificationAsync(caller.Id, since)).Value.State);
    }

    [Fact]
    public async Task TheCallerAsTheActorAlone_TheTargetTheVendor_Decides()
    {
        var caller = NewCaller();
        var someoneElse = NewCaller();
        var directory = Okta(LogsApp, LogsScopes);
        var since = _emulator.State.Now;
        _emulator.State.RecordIdentityVerification(caller.Login, "ALLOW", "CLAIMS_VERIFIED", IdentityVerificationParties.UserActorOnly);

        Assert.Equal(IdentityVerificationState.Verified, (await directory.FindIdentityVerificationAsync(caller.Id, since)).Value.State);
        Assert.Equal(IdentityVerificationState.NotYet, (await directory.FindIdentityVerificationAsync(someoneElse.Id, since)).Value.State);
    }

    [Fact]
    public async Task TheCallerAsAUserTargetAlone_TheActorOkta_Decides()
    {
        var caller = NewCaller();
        var someoneElse = NewCaller();
        var directory = Okta(LogsApp, LogsScopes);
        var since = _emulator.State.Now;
        _emulator.State.RecordIdentityVerification(caller.Login, "DENY", "CLAIMS_NOT_VERIFIED", IdentityVerificationParties.UserTargetOnly);

        Assert.Equal(IdentityVerificationState.NotVerified, (await directory.FindIdentityVerificationAsync(caller.Id, since)).Value.State);
        Assert.Equal(IdentityVerificationState.NotYet, (await directory.FindIdentityVerificationAsync(someoneElse.Id, since)).Value.State);
        Assert.Equal(IdentityVerificationState.NotYet, (await directory.FindIdentityVerificationAsync(EmulatorAdmins.OktaSystemPrincipalId, since)).Value.State);
    }

    [Fact]
    public async Task WhereAndOnWhatOktaRecordedIt_AsOktaGivesIt_NoAddress()
    {
        var caller = NewCaller();
        var directory = Okta(LogsApp, LogsScopes);
        var since = _emulator.State.Now;
        _emulator.State.RecordIdentityVerification(caller.Login, "ALLOW", "CLAIMS_VERIFIED", city: "Lagos", country: "Nigeria",
            userAgent: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36");

        var read = (await directory.FindIdentityVerificationAsync(caller.Id, since)).Value;

        Assert.Equal(new IdentityVerificationClient("Lagos", "Nigeria", "Android 14", "CHROME"), read.Client);
        Assert.DoesNotContain(EmulatorAdmins.CallerIpAddress, read.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnotherUsersPass_AndThisCallersPassBeforeTheStart_DoNotCount()
    {
        var caller = NewCaller();
        var someoneElse = NewCaller();
        var directory = Okta(LogsApp, LogsScopes);
        _emulator.State.VerifyIdentity(caller.Login, passed: true);
        await Task.Delay(20);
        var since = _emulator.State.Now;
        _emulator.State.VerifyIdentity(someoneElse.Login, passed: true);

        var result = await directory.FindIdentityVerificationAsync(caller.Id, since);

        Assert.Equal(IdentityVerificationState.NotYet, result.Value.State);
        Assert.Equal(IdentityVerificationState.Verified, (await directory.FindIdentityVerificationAsync(someoneElse.Id, since)).Value.State);
    }

    [Fact]
    public async Task TheCallersResultOnALaterPage_Found_PastThePageLimit_AnErrorNeverAGuess()
    {
        var caller = NewCaller();
        var crowd = NewCaller();
        var directory = Okta(LogsApp, LogsScopes);
        var since = _emulator.State.Now;
        for (var i = 0; i < OktaCallerDirectory.IdentityVerificationPageSize; i++)
        {
            _emulator.State.VerifyIdentity(crowd.Login, passed: false);
        }

        _emulator.State.VerifyIdentity(caller.Login, passed: true);
        Assert.Equal(IdentityVerificationState.Verified, (await directory.FindIdentityVerificationAsync(caller.Id, since)).Value.State);

        var late = NewCaller();
        for (var i = 0; i < OktaCallerDirectory.IdentityVerificationPageSize * OktaCallerDirectory.IdentityVerificationMaxPages; i++)
        {
            _emulator.State.VerifyIdentity(crowd.Login, passed: false);
        }

        _emulator.State.VerifyIdentity(late.Login, passed: true);
        var tooMany = await directory.FindIdentityVerificationAsync(late.Id, since);
        Assert.False(tooMany.IsSuccess);
        Assert.Equal(("too_many_events", IdpErrorKind.Unavailable), (tooMany.Error.Code, tooMany.Error.Kind));
    }

    [Fact]
    public async Task WithoutTheLogsScope_AccessDenied_NamingTheScope()
    {
        var caller = NewCaller();
        var result = await Okta(NoLogsApp, NoLogsScopes).FindIdentityVerificationAsync(caller.Id, _emulator.State.Now);

        Assert.False(result.IsSuccess);
        Assert.Equal(IdpErrorKind.AccessDenied, result.Error.Kind);
        Assert.Contains("okta.logs.read", result.Error.AgentMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Entra_SaysItHasNoResultAnAppCanRead()
    {
        const string directoryId = "2c4e6a8b-0d1f-4a3b-9c5d-7e8f9a0b1c2d";
        var directory = _services.GetRequiredKeyedService<ICallerDirectoryFactory>(IdpKind.Entra).Create(new IdpConnection("tenant-idv-entra", IdpKind.Entra, _emulator.BaseUrl, GraphSecret)
        {
            Entra = new EntraAppCredentials(directoryId, GraphApp, new Uri(_emulator.BaseUrl, directoryId + "/oauth2/v2.0/token")),
        });

        var result = await directory.FindIdentityVerificationAsync("any", _emulator.State.Now);

        Assert.False(result.IsSuccess);
        Assert.Equal(("idv_not_supported", IdpErrorKind.Invalid), (result.Error.Code, result.Error.Kind));
    }

    private DemoCaller NewCaller()
    {
        var login = $"v{Guid.NewGuid():N}@demo.example";
        return _emulator.State.AddCaller(login, login, "Idv", "Caller");
    }

    private ICallerDirectory Okta(string clientId, IReadOnlyList<string> scopes) =>
        _services.GetRequiredService<ICallerDirectoryFactory>().Create(new IdpConnection("tenant-" + clientId, IdpKind.Okta, _emulator.BaseUrl, _key.ExportPkcs8PrivateKeyPem())
        {
            Okta = new OktaConnectionSettings { ServiceApp = new OktaServiceApp(clientId, scopes, UseDpop: false) },
        });
}
