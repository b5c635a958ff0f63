using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Portal.IdpEmulator;

/// <summary>
/// The emulator's in-memory org: demo callers and agents, pending pushes, recorded Okta API requests and
/// injected faults. Thread-safe; tests and the demo read and drive it in-process.
/// </summary>
public sealed partial class EmulatorState
{
    internal const string TotpType = "token:software:totp";

    /// <summary>The seeded group whose members hold the Super Administrator role through it (a group assignment).</summary>
    public const string AdministratorsGroup = "Okta Administrators";

    /// <summary>The id of the org's temporary access code authenticator (key <c>tac</c>).</summary>
    public static string TacAuthenticatorId => OktaApi.AuthenticatorId("tac");
    private const string Alphanumeric = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _pushLifetime;
    private readonly List<DemoCaller> _callers = [];
    private readonly List<DemoAgent> _agents = [];
    private readonly List<EntraAgent> _entraAgents = [];
    private int _agentLogouts;
    private readonly Queue<CallerTokenOverrides> _callerOverrides = new();
    private readonly List<CallerAuthorizeRequest> _callerAuthorizeRequests = [];
    private readonly Dictionary<string, PushTransaction> _pushes = new(StringComparer.Ordinal);
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<(int Status, string? PathContains)> _faults = [];
    private readonly Dictionary<string, List<string>> _groupRoles = new(StringComparer.OrdinalIgnoreCase) { [AdministratorsGroup] = ["SUPER_ADMIN"] };
    private volatile bool _outage;
    private volatile bool _classicEngine;

    internal EmulatorState(TimeProvider time, TimeSpan pushLifetime)
    {
        _time = time;
        _pushLifetime = pushLifetime;
        Seed();
        Graph = new GraphDirectory(time);
        EntraPushes = new EntraPushBoard(time);
    }

    /// <summary>The messages the emulator's mail sink received (recovery notices from the demo tenants' relay).</summary>
    public Mailbox Mailbox { get; } = new();

    /// <summary>The users of the demo Entra directory (separate from the Okta org).</summary>
    public IReadOnlyList<EntraUser> EntraUsers => Graph.Users;

    internal GraphDirectory Graph { get; }

    /// <summary>The Entra directory's Temporary Access Pass policy (Graph's authentication methods policy).</summary>
    public TapPolicySettings EntraTapPolicy
    {
        get => Graph.TapPolicy;
        set => Graph.TapPolicy = value;
    }

    /// <summary>Whether the Okta org's Temporary Access Code authenticator is ACTIVE (true) or INACTIVE, on an Identity Engine org.</summary>
    public bool OktaTacActive { get; set; } = true;

    internal EntraPushBoard EntraPushes { get; }

    /// <summary>Authenticator pushes sent through the MFA connector that wait for this Entra user's answer.</summary>
    public IReadOnlyList<PendingEntraPush> PendingEntraPushes(string userPrincipalName) => EntraPushes.Pending(userPrincipalName);

    /// <summary>The Entra user taps Approve or Deny. Returns false when the push was not waiting (unknown, answered, or timed out).</summary>
    public bool AnswerEntraPush(string id, bool approve) => EntraPushes.Answer(id, approve);

    public IReadOnlyList<DemoCaller> Callers
    {
        get
        {
            lock (_gate)
            {
                return [.. _callers];
            }
        }
    }

    public IReadOnlyList<DemoAgent> Agents
    {
        get
        {
            lock (_gate)
            {
                return [.. _agents];
            }
        }
    }

    /// <summary>The agents of the demo Entra directory, offered by the Entra sign-in picker.</summary>
    public IReadOnlyList<EntraAgent> EntraAgents
    {
        get
        {
            lock (_gate)
            {
                return [.. _entraAgents];
            }
        }
    }

    /// <summary>Every authorize request received by the caller sign-in (step-up), in order.</summary>
    public IReadOnlyList<CallerAuthorizeRequest> CallerAuthorizeRequests
    {
        get
        {
            lock (_gate)
            {
                return [.. _callerAuthorizeRequests];
            }
        }
    }

    /// <summary>Every Okta API and Microsoft Graph request received (token requests excepted), in order.</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    internal bool IsOutage => _outage;

    internal TimeProvider Time => _time;

    /// <summary>Looks a caller up by login (case-insensitive, as Okta does).</summary>
    public DemoCaller? FindCaller(string login)
    {
        lock (_gate)
        {
            return _callers.Find(c => string.Equals(c.Login, login, StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>Looks an Entra user up by user principal name (case-insensitive, as Entra does).</summary>
    public EntraUser? FindEntraUser(string userPrincipalName) => Graph.FindByUpn(userPrincipalName);

    /// <summary>
    /// Adds a caller with an active Okta TOTP factor (e.g. a login with characters that need escaping), and an Okta
    /// Verify push factor when <paramref name="push"/> (a test's own push caller, whose alarm limits no other test).
    /// </summary>
    public DemoCaller AddCaller(string login, string email, string firstName, string lastName, string status = "ACTIVE", bool push = false) =>
        AddCaller(login, email, firstName, lastName, status, push ? ["push", TotpType] : [TotpType]);

    /// <summary>Adds a caller with exactly these active Okta factors (factorType: push, token:software:totp, sms, email, signed_nonce).</summary>
    public DemoCaller AddCaller(string login, string email, string firstName, string lastName, string status, IReadOnlyList<string> factorTypes)
    {
        ArgumentNullException.ThrowIfNull(factorTypes);
        lock (_gate)
        {
            if (_callers.Exists(c => string.Equals(c.Login, login, StringComparison.OrdinalIgnoreCase)))
            {
                throw new InvalidOperationException("A caller with that login already exists.");
            }

            var caller = NewCaller(login, email, firstName, lastName, status, false);
            foreach (var type in factorTypes)
            {
                AddFactor(caller, type, "OKTA", "ACTIVE");
            }

            return caller;
        }
    }

    /// <summary>
    /// Makes <paramref name="managerLogin"/> the caller's manager, as an organisation fills the profile: <c>managerId</c>
    /// is the manager's Okta user id (or their login when <paramref name="byLogin"/>), <c>manager</c> their name. Null
    /// clears both. A test's own manager and report pair shares nothing with the seeded people.
    /// </summary>
    public void SetManager(string reportLogin, string? managerLogin, bool byLogin = false)
    {
        var report = FindCaller(reportLogin) ?? throw new ArgumentException("No such caller.", nameof(reportLogin));
        var manager = managerLogin is null ? null : FindCaller(managerLogin) ?? throw new ArgumentException("No such caller.", nameof(managerLogin));
        lock (_gate)
        {
            report.ManagerId = manager is null ? null : byLogin ? manager.Login : manager.Id;
            report.Manager = manager is null ? null : manager.FirstName + " " + manager.LastName;
        }
    }

    /// <summary>Sets the caller's work phone on file (Okta <c>primaryPhone</c>); null clears it. Fictitious 555-01xx numbers only.</summary>
    public void SetWorkPhone(string login, string? phone)
    {
        var caller = FindCaller(login) ?? throw new ArgumentException("No such caller.", nameof(login));
        lock (_gate)
        {
            caller.WorkPhone = phone;
        }
    }

    /// <summary>
    /// Adds a user to the demo Entra directory (the Microsoft Authenticator method when <paramref name="authenticator"/>,
    /// else a phone method only), with a business phone when given: a test's own Entra caller or manager.
    /// </summary>
    public EntraUser AddEntraUser(string userPrincipalName, string displayName, bool authenticator = true, string? businessPhone = null) =>
        Graph.Add(userPrincipalName, displayName, authenticator, businessPhone);

    /// <summary>
    /// Adds the Entra user to <paramref name="count"/> new groups named <paramref name="prefix"/> 1, 2, …, the last one
    /// role-assignable when <paramref name="lastRoleAssignable"/>: a caller whose groups fill more than one of Graph's pages.
    /// </summary>
    public void AddToEntraGroups(string userPrincipalName, string prefix, int count, bool lastRoleAssignable = false) =>
        Graph.AddToGroups(userPrincipalName, Enumerable.Range(1, count).Select(i =>
        {
            var name = prefix + " " + i.ToString(CultureInfo.InvariantCulture);
            return new EntraGroup(GraphDirectory.GuidFor("group/" + name), name, lastRoleAssignable && i == count);
        }));

    /// <summary>Makes <paramref name="managerUpn"/> the Entra user's manager (<c>/users/{id}/manager</c>); null: no manager.</summary>
    public void SetEntraManager(string userPrincipalName, string? managerUpn) => Graph.SetManager(userPrincipalName, managerUpn);

    /// <summary>Makes an organisational contact (not a user of the directory) the Entra user's manager, as Entra allows.</summary>
    public void SetEntraManagerContact(string userPrincipalName, string contactName) => Graph.SetManagerContact(userPrincipalName, contactName);

    /// <summary>The code the caller's first active TOTP factor shows now.</summary>
    public string CurrentTotp(string login) => TotpAt(login, _time.GetUtcNow());

    /// <summary>The code the caller's first active TOTP factor shows at <paramref name="at"/>.</summary>
    public string TotpAt(string login, DateTimeOffset at)
    {
        var caller = FindCaller(login) ?? throw new ArgumentException("No such caller.", nameof(login));
        var factor = caller.Factors.FirstOrDefault(f => f.FactorType == TotpType && f.Status == "ACTIVE" && f.Secret is not null)
            ?? throw new InvalidOperationException("The caller has no active TOTP factor.");
        return Totp.ComputeAt(factor.Secret!, at);
    }

    /// <summary>The code the Entra user's authenticator app shows now (for the step-up sign-in).</summary>
    public string CurrentEntraTotp(string userPrincipalName)
    {
        var user = FindEntraUser(userPrincipalName) ?? throw new ArgumentException("No such Entra user.", nameof(userPrincipalName));
        return user.TotpSecret is null
            ? throw new InvalidOperationException("The user has no authenticator app.")
            : Totp.ComputeAt(user.TotpSecret, _time.GetUtcNow());
    }

    /// <summary>
    /// Test hook: the next ID token issued after a caller sign-in carries these values (a wrong subject, an old
    /// <c>auth_time</c>, no MFA), as a misbehaving or misconfigured IdP would send them.
    /// </summary>
    public void NextCallerSignIn(CallerTokenOverrides overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        lock (_gate)
        {
            _callerOverrides.Enqueue(overrides);
        }
    }

    internal CallerTokenOverrides? TakeCallerOverrides()
    {
        lock (_gate)
        {
            return _callerOverrides.TryDequeue(out var next) ? next : null;
        }
    }

    internal void RecordCallerAuthorize(CallerAuthorizeRequest request)
    {
        lock (_gate)
        {
            _callerAuthorizeRequests.Add(request);
        }
    }

    /// <summary>Checks a code from an Entra user's authenticator app, once per step, with one step of drift.</summary>
    internal TotpCheck VerifyEntraTotp(EntraUser user, string passCode)
    {
        if (user.TotpSecret is null || passCode.Length != 6 || !passCode.All(char.IsAsciiDigit))
        {
            return TotpCheck.Invalid;
        }

        var now = Totp.StepAt(_time.GetUtcNow());
        lock (_gate)
        {
            for (var step = now - 1; step <= now + 1; step++)
            {
                if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Totp.Compute(user.TotpSecret, step)), Encoding.ASCII.GetBytes(passCode)))
                {
                    continue;
                }

                if (step <= user.LastUsedStep)
                {
                    return TotpCheck.Replayed;
                }

                user.LastUsedStep = step;
                return TotpCheck.Success;
            }
        }

        return TotpCheck.Invalid;
    }

    /// <summary>Pushes still waiting for the caller's answer.</summary>
    public IReadOnlyList<PendingPush> PendingPushes(string login)
    {
        var caller = FindCaller(login);
        if (caller is null)
        {
            return [];
        }

        var now = _time.GetUtcNow();
        lock (_gate)
        {
            return [.. _pushes.Values
                .Where(p => p.UserId == caller.Id && p.ResultAt(now) == "WAITING")
                .OrderBy(p => p.ExpiresAt)
                .Select(p => new PendingPush(p.Id, p.CorrectAnswer, p.Choices, p.ExpiresAt))];
        }
    }

    /// <summary>
    /// The caller taps a number. The right one approves, any other rejects (as Okta Verify does).
    /// Returns false when the push was not waiting (unknown, answered, or expired).
    /// </summary>
    public bool AnswerPush(string transactionId, int number)
    {
        lock (_gate)
        {
            if (!_pushes.TryGetValue(transactionId, out var push) || push.ResultAt(_time.GetUtcNow()) != "WAITING")
            {
                return false;
            }

            push.Result = number == push.CorrectAnswer ? "SUCCESS" : "REJECTED";
            return true;
        }
    }

    /// <summary>The caller taps "Not me". Returns false when the push was not waiting.</summary>
    public bool DenyPush(string transactionId)
    {
        lock (_gate)
        {
            if (!_pushes.TryGetValue(transactionId, out var push) || push.ResultAt(_time.GetUtcNow()) != "WAITING")
            {
                return false;
            }

            push.Result = "REJECTED";
            return true;
        }
    }

    /// <summary>The next Okta API or Graph request whose path contains <paramref name="pathContains"/> (any, if null) fails with this status.</summary>
    public void FailNext(int statusCode, string? pathContains = null)
    {
        lock (_gate)
        {
            _faults.Add((statusCode, pathContains));
        }
    }

    /// <summary>
    /// A Classic Engine org: <c>/.well-known/okta-organization</c> says pipeline <c>v1</c>, and the Identity Engine
    /// only APIs the portal uses (authenticators, temporary access codes) answer 404 as on a real Classic org.
    /// </summary>
    public bool ClassicEngine
    {
        get => _classicEngine;
        set => _classicEngine = value;
    }

    /// <summary>Adds the caller to an Okta group (created on first use).</summary>
    public void AddToGroup(string login, string group)
    {
        var caller = FindCaller(login) ?? throw new ArgumentException("No such caller.", nameof(login));
        lock (caller.GroupList)
        {
            if (!caller.GroupList.Contains(group, StringComparer.OrdinalIgnoreCase))
            {
                caller.GroupList.Add(group);
            }
        }
    }

    /// <summary>
    /// Adds the caller to <paramref name="count"/> new Okta groups named <paramref name="prefix"/> 1, 2, …, after the
    /// groups they are in: a caller whose groups fill more than one of Okta's pages (200 a page).
    /// </summary>
    public void AddToManyGroups(string login, string prefix, int count)
    {
        var caller = FindCaller(login) ?? throw new ArgumentException("No such caller.", nameof(login));
        lock (caller.GroupList)
        {
            caller.GroupList.AddRange(Enumerable.Range(1, count).Select(i => prefix + " " + i.ToString(CultureInfo.InvariantCulture)));
        }
    }

    /// <summary>Assigns an admin role (Okta role type, e.g. ORG_ADMIN, HELP_DESK_ADMIN) to the caller directly.</summary>
    public void AssignRole(string login, string roleType)
    {
        var caller = FindCaller(login) ?? throw new ArgumentException("No such caller.", nameof(login));
        lock (caller.RoleList)
        {
            caller.RoleList.Add(roleType);
        }
    }

    /// <summary>Assigns an admin role to a group: its members hold the role through the group.</summary>
    public void AssignGroupRole(string group, string roleType)
    {
        lock (_gate)
        {
            if (!_groupRoles.TryGetValue(group, out var roles))
            {
                _groupRoles[group] = roles = [];
            }

            roles.Add(roleType);
        }
    }

    /// <summary>Makes the caller directory-sourced (credentials.provider.type), as an Active Directory user is in Okta.</summary>
    public void SetCredentialsProvider(string login, string providerType)
    {
        var caller = FindCaller(login) ?? throw new ArgumentException("No such caller.", nameof(login));
        caller.CredentialsProvider = providerType;
    }

    /// <summary>Sets a caller's Okta status (ACTIVE, STAGED, PROVISIONED, SUSPENDED, DEPROVISIONED, LOCKED_OUT, …).</summary>
    public void SetStatus(string login, string status) =>
        SetStatus(FindCaller(login) ?? throw new ArgumentException("No such caller.", nameof(login)), status);

    internal IReadOnlyList<string> GroupRoles(string group)
    {
        lock (_gate)
        {
            return _groupRoles.TryGetValue(group, out var roles) ? [.. roles] : [];
        }
    }

    internal string? GroupById(string groupId)
    {
        var names = Callers.SelectMany(c => c.Groups);
        lock (_gate)
        {
            names = names.Concat(_groupRoles.Keys).ToList();
        }

        return names.FirstOrDefault(n => GroupId(n) == groupId);
    }

    /// <summary>The Okta id the emulator gives a group of this name.</summary>
    public static string GroupId(string name) => DeterministicId("00g", "group/" + name);

    /// <summary>While down, every Okta API and Graph call answers 503.</summary>
    public void SetOutage(bool down) => _outage = down;

    internal void Record(RecordedRequest request)
    {
        lock (_gate)
        {
            _requests.Add(request);
        }
    }

    internal int? TakeFault(string pathAndQuery)
    {
        lock (_gate)
        {
            var index = _faults.FindIndex(f => f.PathContains is null || pathAndQuery.Contains(f.PathContains, StringComparison.Ordinal));
            if (index < 0)
            {
                return null;
            }

            var status = _faults[index].Status;
            _faults.RemoveAt(index);
            return status;
        }
    }

    internal DemoCaller? FindByIdOrLogin(string idOrLogin)
    {
        lock (_gate)
        {
            return _callers.Find(c => string.Equals(c.Id, idOrLogin, StringComparison.Ordinal))
                ?? _callers.Find(c => string.Equals(c.Login, idOrLogin, StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>An agent of the demo org by Okta user id: agents are users of the org too, so the Users API reads them.</summary>
    internal DemoAgent? FindAgentById(string id)
    {
        lock (_gate)
        {
            return _agents.Find(a => string.Equals(a.Subject, id, StringComparison.Ordinal));
        }
    }

    /// <summary>An agent of the demo Entra directory by object id: agents are users of the directory too.</summary>
    internal EntraAgent? FindEntraAgentById(string id)
    {
        lock (_gate)
        {
            return _entraAgents.Find(a => string.Equals(a.ObjectId, id, StringComparison.OrdinalIgnoreCase));
        }
    }

    internal DemoCaller? FindById(string id)
    {
        lock (_gate)
        {
            return _callers.Find(c => string.Equals(c.Id, id, StringComparison.Ordinal));
        }
    }

    internal void SetStatus(DemoCaller caller, string status)
    {
        lock (_gate)
        {
            caller.Status = status;
            caller.StatusChanged = _time.GetUtcNow();
        }
    }

    internal void RemoveFactors(DemoCaller caller)
    {
        lock (caller.FactorList)
        {
            caller.FactorList.Clear();
        }

        lock (_gate)
        {
            foreach (var push in _pushes.Values.Where(p => p.UserId == caller.Id && p.Result == "WAITING"))
            {
                push.Result = "CANCELLED";
            }
        }
    }

    internal PushTransaction StartPush(DemoCaller caller, DemoFactor factor)
    {
        var correct = RandomNumberGenerator.GetInt32(1, 100);
        var choices = new List<int> { correct };
        while (choices.Count < 3)
        {
            var other = RandomNumberGenerator.GetInt32(1, 100);
            if (!choices.Contains(other))
            {
                choices.Add(other);
            }
        }

        RandomNumberGenerator.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(choices));
        var push = new PushTransaction(
            "v2mst." + RandomNumberGenerator.GetString(Alphanumeric, 22),
            caller.Id,
            factor.Id,
            correct,
            choices,
            _time.GetUtcNow() + _pushLifetime);
        lock (_gate)
        {
            _pushes[push.Id] = push;
        }

        return push;
    }

    /// <summary>The push's result now: WAITING, SUCCESS, REJECTED, TIMEOUT or CANCELLED; null when unknown.</summary>
    internal PushTransaction? FindPush(string transactionId)
    {
        lock (_gate)
        {
            return _pushes.GetValueOrDefault(transactionId);
        }
    }

    internal void CancelPush(PushTransaction push)
    {
        lock (_gate)
        {
            if (push.ResultAt(_time.GetUtcNow()) == "WAITING")
            {
                push.Result = "CANCELLED";
            }
        }
    }

    internal TotpCheck VerifyTotp(DemoFactor factor, string passCode)
    {
        if (factor.Secret is null || passCode.Length != 6 || !passCode.All(char.IsAsciiDigit))
        {
            return TotpCheck.Invalid;
        }

        var now = Totp.StepAt(_time.GetUtcNow());
        lock (_gate)
        {
            // One step of drift either way, as RFC 6238 section 5.2 recommends and the portal's design assumes.
            for (var step = now - 1; step <= now + 1; step++)
            {
                if (!CryptographicOperations.FixedTimeEquals(
                    Encoding.ASCII.GetBytes(Totp.Compute(factor.Secret, step)),
                    Encoding.ASCII.GetBytes(passCode)))
                {
                    continue;
                }

                // A code seen once must never verify again, or an eavesdropper on the call could reuse it.
                if (step <= factor.LastUsedStep)
                {
                    return TotpCheck.Replayed;
                }

                factor.LastUsedStep = step;
                return TotpCheck.Success;
            }
        }

        return TotpCheck.Invalid;
    }

    internal DateTimeOffset Now => _time.GetUtcNow();

    internal static string RandomString(int length) => RandomNumberGenerator.GetString(Alphanumeric, length);

    internal static string DeterministicId(string prefix, string seed)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(prefix + ":" + seed));
        var chars = new char[17];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = Alphanumeric[hash[i] % Alphanumeric.Length];
        }

        return prefix + new string(chars);
    }

    private DemoCaller NewCaller(string login, string email, string firstName, string lastName, string status, bool isAdmin)
    {
        var created = _time.GetUtcNow().AddDays(-400);
        var caller = new DemoCaller(DeterministicId("00u", login.ToUpperInvariant()), login, email, firstName, lastName, status, isAdmin, created);
        _callers.Add(caller);
        return caller;
    }

    /// <summary>
    /// The caller enrols one more active factor now (a new phone, say): a factor enrolled minutes before a call is what
    /// an attacker who got in leaves behind, and the console flags it.
    /// </summary>
    public DemoFactor EnrolNow(string login, string factorType = "push")
    {
        var caller = FindCaller(login) ?? throw new ArgumentException("No such caller.", nameof(login));
        var now = _time.GetUtcNow();
        return AddFactor(caller, factorType, "OKTA", "ACTIVE", now, "/" + now.UtcTicks.ToString(CultureInfo.InvariantCulture));
    }

    private static DemoFactor AddFactor(DemoCaller caller, string type, string provider, string status, DateTimeOffset? created = null, string idSuffix = "")
    {
        var prefix = type switch
        {
            "push" => "opf",
            TotpType => provider == "GOOGLE" ? "uft" : "ost",
            "sms" => "mbl",
            "email" => "emf",
            "signed_nonce" => "crp",
            _ => "fac",
        };
        var secret = type == TotpType ? RandomNumberGenerator.GetBytes(20) : null;
        var factor = new DemoFactor(DeterministicId(prefix, caller.Login.ToUpperInvariant() + "/" + type + idSuffix), type, provider, status, secret)
        {
            Created = created ?? caller.Created.AddDays(1),
        };
        lock (caller.FactorList)
        {
            caller.FactorList.Add(factor);
        }

        return factor;
    }

    private void Seed()
    {
        lock (_gate)
        {
            var alice = NewCaller("alice.caller@demo.example", "alice.caller@demo.example", "Alice", "Caller", "ACTIVE", false);
            AddFactor(alice, "push", "OKTA", "ACTIVE");
            AddFactor(alice, TotpType, "OKTA", "ACTIVE");
            alice.Title = "Payroll Specialist";
            alice.Department = "Finance";
            alice.LastLogin = _time.GetUtcNow().AddDays(-2);
            alice.WorkPhone = "+1 555 0100 123";

            // Alice's manager, who can approve her recovery (docs/recovery.md) with their own Okta Verify push.
            var morgan = NewCaller("morgan.lead@demo.example", "morgan.lead@demo.example", "Morgan", "Lead", "ACTIVE", false);
            AddFactor(morgan, "push", "OKTA", "ACTIVE");
            morgan.Title = "Payroll Team Lead";
            morgan.Department = "Finance";
            morgan.WorkPhone = "+1 555 0100 124";
            morgan.LastLogin = _time.GetUtcNow().AddDays(-1);
            alice.ManagerId = morgan.Id;
            alice.Manager = "Morgan Lead";

            var bob = NewCaller("bob.caller@demo.example", "bob.caller@demo.example", "Bob", "Caller", "ACTIVE", false);
            AddFactor(bob, TotpType, "GOOGLE", "ACTIVE");

            var carol = NewCaller("carol.caller@demo.example", "carol.caller@demo.example", "Carol", "Caller", "ACTIVE", false);
            AddFactor(carol, "sms", "OKTA", "ACTIVE");
            AddFactor(carol, "email", "OKTA", "ACTIVE");

            var dave = NewCaller("dave.caller@demo.example", "dave.caller@demo.example", "Dave", "Caller", "LOCKED_OUT", false);
            dave.StatusChanged = _time.GetUtcNow().AddMinutes(-35);
            dave.LastLogin = _time.GetUtcNow().AddDays(-1);
            AddFactor(dave, "push", "OKTA", "ACTIVE");
            AddFactor(dave, TotpType, "OKTA", "ACTIVE");

            var erin = NewCaller("erin.admin@demo.example", "erin.admin@demo.example", "Erin", "Admin", "ACTIVE", true);
            AddFactor(erin, "push", "OKTA", "ACTIVE");
            AddFactor(erin, TotpType, "OKTA", "ACTIVE");

            var frank = NewCaller("frank.caller@demo.example", "frank.caller@demo.example", "Frank", "Caller", "ACTIVE", false);
            AddFactor(frank, "push", "OKTA", "PENDING_ACTIVATION");
            AddFactor(frank, "signed_nonce", "OKTA", "ACTIVE");

            // Recovery's refusals: a caller named as their own manager; a manager with no factor that can approve (SMS
            // only), named by login, as some organisations fill managerId; bob has no manager at all.
            var selma = NewCaller("self.managed@demo.example", "self.managed@demo.example", "Selma", "Selfmanaged", "ACTIVE", false);
            AddFactor(selma, "push", "OKTA", "ACTIVE");
            selma.ManagerId = selma.Id;
            selma.Manager = "Selma Selfmanaged";

            var nolan = NewCaller("nofactor.manager@demo.example", "nofactor.manager@demo.example", "Nolan", "Nofactor", "ACTIVE", false);
            AddFactor(nolan, "sms", "OKTA", "ACTIVE");
            nolan.Title = "Warehouse Supervisor";

            var orla = NewCaller("orphan.report@demo.example", "orphan.report@demo.example", "Orla", "Orphan", "ACTIVE", false);
            AddFactor(orla, "push", "OKTA", "ACTIVE");
            orla.ManagerId = nolan.Login;
            orla.Manager = "Nolan Nofactor";

            // An executive target (docs/tenancy.md): in the group the demo Okta tenant names in ExecutiveTargets:Groups, so
            // any action on her needs two different methods (push, then TOTP) in the same agent session.
            var vera = NewCaller("vera.exec@demo.example", "vera.exec@demo.example", "Vera", "Exec", "ACTIVE", false);
            AddFactor(vera, "push", "OKTA", "ACTIVE");
            AddFactor(vera, TotpType, "OKTA", "ACTIVE");
            vera.Title = "Chief Financial Officer";
            vera.Department = "Executive Office";
            vera.LastLogin = _time.GetUtcNow().AddDays(-1);
            lock (vera.GroupList)
            {
                vera.GroupList.Add(DemoTenants.ExecutivesGroup);
            }

            string[] mfa = ["pwd", "mfa"];
            AddAgent("tier1.agent@demo.example", "Tier One Agent", ["Helpdesk Tier 1"], mfa);
            AddAgent("tier2.agent@demo.example", "Tier Two Agent", ["Helpdesk Tier 2"], mfa);
            AddAgent("tier3.agent@demo.example", "Tier Three Agent", ["Helpdesk Tier 3"], mfa);
            AddAgent("auditor@demo.example", "Audit Reviewer", ["Helpdesk Auditors"], mfa);
            AddAgent("admin@demo.example", "Portal Admin", ["Helpdesk Admins"], mfa);
            AddAgent("nomfa.agent@demo.example", "No MFA Agent", ["Helpdesk Tier 3"], ["pwd"]);
            // An OP with a thin ID token: e-mail and groups come from userinfo only.
            _agents.Add(new DemoAgent(DeterministicId("00u", "agent/USERINFO.AGENT@DEMO.EXAMPLE"), "userinfo.agent@demo.example", "UserInfo Agent", ["Helpdesk Tier 3"], mfa) { ClaimsInUserInfoOnly = true });

            AddEntraAgent("tier1.agent@entra.example", "Entra Tier One Agent", [EntraDemo.Tier1GroupId], [], mfa);
            AddEntraAgent("tier3.agent@entra.example", "Entra Tier Three Agent", [EntraDemo.Tier3GroupId], [], mfa);
            AddEntraAgent("role.agent@entra.example", "Entra App-Role Agent", [], [EntraDemo.Tier3Role], mfa);
            AddEntraAgent("auditor@entra.example", "Entra Audit Reviewer", [EntraDemo.AuditorsGroupId], [], mfa);
            AddEntraAgent("nomfa.agent@entra.example", "Entra No MFA Agent", [EntraDemo.Tier3GroupId], [], ["pwd"]);
        }
    }

    private void AddEntraAgent(string upn, string name, string[] groupIds, string[] roles, string[] amr) =>
        _entraAgents.Add(new EntraAgent(GraphDirectory.GuidFor("agent/" + upn), upn, name, groupIds, roles, amr));

    /// <summary>RP-initiated logouts the OIDC provider accepted (a valid id_token_hint).</summary>
    public int AgentLogouts => Volatile.Read(ref _agentLogouts);

    internal void CountAgentLogout() => Interlocked.Increment(ref _agentLogouts);

    /// <summary>Adds a helpdesk agent who signs in with MFA (e.g. a whole office of them, for load and limit tests).</summary>
    public DemoAgent AddAgent(string email, string name, string[] groups)
    {
        lock (_gate)
        {
            AddAgent(email, name, groups, ["pwd", "mfa"]);
            return _agents[^1];
        }
    }

    private void AddAgent(string email, string name, string[] groups, string[] amr) =>
        _agents.Add(new DemoAgent(DeterministicId("00u", "agent/" + email.ToUpperInvariant()), email, name, groups, amr));
}

internal enum TotpCheck
{
    Success,
    Invalid,
    Replayed,
}

internal sealed class PushTransaction(string id, string userId, string factorId, int correctAnswer, IReadOnlyList<int> choices, DateTimeOffset expiresAt)
{
    public string Id { get; } = id;

    public string UserId { get; } = userId;

    public string FactorId { get; } = factorId;

    public int CorrectAnswer { get; } = correctAnswer;

    public IReadOnlyList<int> Choices { get; } = choices;

    public DateTimeOffset ExpiresAt { get; } = expiresAt;

    /// <summary>WAITING until answered; expiry is derived from the clock so that a fake clock drives TIMEOUT.</summary>
    public string Result { get; set; } = "WAITING";

    public string ResultAt(DateTimeOffset now) => Result == "WAITING" && now >= ExpiresAt ? "TIMEOUT" : Result;
}
