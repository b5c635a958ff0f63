namespace Portal.IdpEmulator;

/// <summary>Where the emulator listens, what it accepts and which clock it runs on.</summary>
public sealed class EmulatorOptions
{
    /// <summary>Listen address; port 0 picks a free port. With <see cref="Certificate"/>, an <c>https://</c> IP address and port.</summary>
    public string Url { get; set; } = "http://127.0.0.1:0";

    /// <summary>
    /// The TLS certificate to serve https with, as a real Okta org or Microsoft Graph does (a production-mode
    /// portal refuses an http IdP). Null: plain http on <see cref="Url"/>.
    /// </summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; set; }

    /// <summary>
    /// The org's public URL (e.g. https://demo.okta.example/) when the emulator sits behind TLS or a proxy: links
    /// and the canonical org URL use it. Empty: the request's own scheme and host.
    /// </summary>
    public string PublicUrl { get; set; } = "";

    /// <summary>The SSWS token the Okta API accepts (required).</summary>
    public string OktaApiToken { get; set; } = "";

    /// <summary>Okta API service apps that may get Management API access tokens at <c>/oauth2/v1/token</c>.</summary>
    public IList<EmulatorServiceApp> OktaServiceApps { get; } = new List<EmulatorServiceApp>();

    /// <summary>OIDC clients allowed to sign agents in.</summary>
    public IList<EmulatorClient> Clients { get; } = new List<EmulatorClient>();

    /// <summary>Entra app registrations allowed to get an app-only Graph token (client credentials).</summary>
    public IList<EmulatorClient> GraphClients { get; } = new List<EmulatorClient>();

    /// <summary>Entra app registrations allowed to sign agents in at the Entra-like authority (<c>/{tenantId}/v2.0</c>).</summary>
    public IList<EmulatorClient> EntraAgentClients { get; } = new List<EmulatorClient>();

    /// <summary>
    /// Step-up clients: the portal's app that has a caller sign in to their own IdP, at the Okta-like caller
    /// authority (<c>/oauth2/callers</c>) and at the Entra-like one (<c>/{tenantId}/v2.0</c>).
    /// </summary>
    public IList<EmulatorClient> StepUpClients { get; } = new List<EmulatorClient>();

    /// <summary>
    /// The clock of every lifetime the emulator keeps (pushes, TOTP steps, codes, tokens). Tests give it the
    /// portal's clock, so that both sides see the same time when a test moves it.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// How long a push waits for the caller before Okta reports it timed out (five minutes by default). A test
    /// sets it longer than the portal's own ten-minute cap to see that cap hold on its own.
    /// </summary>
    public TimeSpan PushLifetime { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// An Okta API service app: its client id, the public key of its <c>private_key_jwt</c> assertions (and the key's
/// <c>kid</c>, when the app has several), the Okta API scopes granted to it, and whether it requires DPoP (Okta's
/// default for new service apps).
/// </summary>
public sealed record EmulatorServiceApp(string ClientId, System.Security.Cryptography.RSA PublicKey, IReadOnlyList<string> GrantedScopes)
{
    public string? KeyId { get; init; }

    public bool RequireDpop { get; init; } = true;

    /// <summary>The app's label in the Okta org: the System Log's <c>actor.displayName</c> for its calls.</summary>
    public string Label { get; init; } = "Helpdesk Portal";

    public override string ToString() => $"EmulatorServiceApp {{ ClientId = {ClientId} }}";
}

/// <summary>A registered OIDC client.</summary>
public sealed record EmulatorClient(string ClientId, string ClientSecret)
{
    /// <summary>
    /// The client's public key for <c>private_key_jwt</c> (RFC 7523): when set, the token endpoint also accepts a
    /// client assertion signed with the matching private key (RS256, <c>aud</c> = the token endpoint, single-use <c>jti</c>).
    /// </summary>
    public Microsoft.IdentityModel.Tokens.SecurityKey? AssertionKey { get; init; }

    /// <summary>
    /// For a Graph client: the application permissions granted (admin-consented) to the app, which its app-only token
    /// carries in the <c>roles</c> claim. Null: every permission docs/entra.md lists for the portal, Policy.Read.All and
    /// AuditLog.Read.All (reconciliation reads the directory audits).
    /// </summary>
    public IReadOnlyList<string>? ApplicationPermissions { get; init; }

    /// <summary>For a Graph client: the app registration's display name, which directory audits name as <c>initiatedBy.app.displayName</c>.</summary>
    public string DisplayName { get; init; } = "Helpdesk Portal";

    /// <summary>The permissions an app registration gets when <see cref="ApplicationPermissions"/> is not set.</summary>
    public static IReadOnlyList<string> PortalGraphPermissions { get; } =
        ["User.Read.All", "UserAuthenticationMethod.ReadWrite.All", "RoleManagement.Read.Directory", "GroupMember.Read.All", "User.RevokeSessions.All", "User.ReadWrite.All", "Policy.Read.All", "AuditLog.Read.All"];

    /// <summary>Redacted so that a client written to a log carries no secret.</summary>
    public override string ToString() => $"EmulatorClient {{ ClientId = {ClientId} }}";
}

/// <summary>An enrolled factor of a demo caller.</summary>
public sealed class DemoFactor
{
    internal DemoFactor(string id, string factorType, string provider, string status, byte[]? secret)
    {
        Id = id;
        FactorType = factorType;
        Provider = provider;
        Status = status;
        Secret = secret;
    }

    public string Id { get; }

    /// <summary>Okta's factorType: push, token:software:totp, sms, email, signed_nonce.</summary>
    public string FactorType { get; }

    /// <summary>OKTA or GOOGLE.</summary>
    public string Provider { get; }

    public string VendorName => Provider;

    /// <summary>ACTIVE, PENDING_ACTIVATION, …</summary>
    public string Status { get; }

    internal byte[]? Secret { get; }

    /// <summary>The last TOTP step accepted, so that a code cannot be used twice.</summary>
    internal long LastUsedStep { get; set; } = long.MinValue;

    internal DateTimeOffset Created { get; init; }
}

/// <summary>A caller in the demo org, with counters of what the portal did to them (for tests and the demo).</summary>
public sealed class DemoCaller
{
    private int _passwordResets;
    private int _temporaryPasswordsIssued;
    private int _sessionsRevoked;
    private int _factorsReset;
    private int _unlocks;
    private int _temporaryAccessCodesIssued;

    internal DemoCaller(string id, string login, string email, string firstName, string lastName, string status, bool isAdmin, DateTimeOffset created)
    {
        Id = id;
        Login = login;
        Email = email;
        FirstName = firstName;
        LastName = lastName;
        Status = status;
        IsAdmin = isAdmin;
        Created = created;
        StatusChanged = created;
        if (isAdmin)
        {
            GroupList.Add(EmulatorState.AdministratorsGroup);
        }
    }

    public string Id { get; }

    public string Login { get; }

    public string Email { get; }

    public string FirstName { get; }

    public string LastName { get; }

    /// <summary>Okta user status: ACTIVE, LOCKED_OUT, RECOVERY, PASSWORD_EXPIRED, …</summary>
    public string Status { get; internal set; }

    /// <summary>Seeded as a member of "Okta Administrators", a group that holds the Super Administrator role.</summary>
    public bool IsAdmin { get; }

    /// <summary>The names of the Okta groups the caller belongs to ("Everyone" first).</summary>
    public IReadOnlyList<string> Groups
    {
        get
        {
            lock (GroupList)
            {
                return [.. GroupList];
            }
        }
    }

    /// <summary>Admin role types assigned to the caller directly (Okta's assignmentType USER), e.g. ORG_ADMIN.</summary>
    public IReadOnlyList<string> DirectRoles
    {
        get
        {
            lock (RoleList)
            {
                return [.. RoleList];
            }
        }
    }

    /// <summary>Okta profile <c>title</c> (job title); null: not set.</summary>
    public string? Title { get; set; }

    /// <summary>Okta profile <c>department</c>; null: not set.</summary>
    public string? Department { get; set; }

    /// <summary>Okta profile <c>manager</c> (the manager's name); null: not set.</summary>
    public string? Manager { get; set; }

    /// <summary>
    /// Okta profile <c>managerId</c>: the manager's Okta user id or login, as an organisation fills it; null: not set.
    /// Any text may be set (one naming no user, say); <see cref="EmulatorState.SetManager"/> sets it with the name.
    /// </summary>
    public string? ManagerId { get; set; }

    /// <summary>Okta profile <c>primaryPhone</c>, the work phone on file (fictitious 555-01xx numbers only); null: not set.</summary>
    public string? WorkPhone { get; set; }

    /// <summary>Okta's <c>lastLogin</c>; null: never signed in.</summary>
    public DateTimeOffset? LastLogin { get; set; }

    /// <summary>Okta's credentials.provider.type: OKTA, or ACTIVE_DIRECTORY/LDAP for a directory-sourced user.</summary>
    public string CredentialsProvider { get; internal set; } = "OKTA";

    internal List<string> GroupList { get; } = ["Everyone"];

    internal List<string> RoleList { get; } = [];

    public int PasswordResets => Volatile.Read(ref _passwordResets);

    public int TemporaryPasswordsIssued => Volatile.Read(ref _temporaryPasswordsIssued);

    public int SessionsRevoked => Volatile.Read(ref _sessionsRevoked);

    public int FactorsReset => Volatile.Read(ref _factorsReset);

    public int Unlocks => Volatile.Read(ref _unlocks);

    public int TemporaryAccessCodesIssued => Volatile.Read(ref _temporaryAccessCodesIssued);

    /// <summary>A snapshot of the enrolled factors.</summary>
    public IReadOnlyList<DemoFactor> Factors
    {
        get
        {
            lock (FactorList)
            {
                return [.. FactorList];
            }
        }
    }

    internal List<DemoFactor> FactorList { get; } = [];

    internal DateTimeOffset Created { get; }

    /// <summary>Okta's <c>statusChanged</c>: since when the caller is in <see cref="Status"/> (locked out since, for example).</summary>
    public DateTimeOffset StatusChanged { get; set; }

    internal void CountPasswordReset() => Interlocked.Increment(ref _passwordResets);

    internal void CountTemporaryPassword() => Interlocked.Increment(ref _temporaryPasswordsIssued);

    internal void CountSessionsRevoked() => Interlocked.Increment(ref _sessionsRevoked);

    internal void CountFactorsReset() => Interlocked.Increment(ref _factorsReset);

    internal void CountUnlock() => Interlocked.Increment(ref _unlocks);

    internal void CountTemporaryAccessCode() => Interlocked.Increment(ref _temporaryAccessCodesIssued);
}

/// <summary>An agent offered by the sign-in picker.</summary>
public sealed record DemoAgent(string Subject, string Email, string Name, IReadOnlyList<string> Groups, IReadOnlyList<string> Amr)
{
    /// <summary>
    /// The ID token carries neither <c>email</c> nor <c>groups</c>: the OP returns them from userinfo only (as an
    /// Okta authorization server whose groups claim is set for userinfo, or an OP with a thin ID token, does).
    /// </summary>
    public bool ClaimsInUserInfoOnly { get; init; }
}

/// <summary>A push waiting on the caller's phone: the three numbers shown, one of them right.</summary>
public sealed record PendingPush(string TransactionId, int CorrectAnswer, IReadOnlyList<int> Choices, DateTimeOffset ExpiresAt);

/// <summary>An Okta API or Graph request as received (and the host it named), so that security tests can check what the portal sent where.</summary>
public sealed record RecordedRequest(string Method, string PathAndQuery, string Body, string Host = "");
