using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;

namespace Portal.IdpEmulator;

/// <summary>
/// The Microsoft Graph v1.0 subset the portal's Entra adapter calls, with Graph's shapes and errors, and the
/// Microsoft identity platform's client-credentials token endpoint that issues the app-only token it requires.
/// </summary>
internal static class GraphApi
{
    internal const string RetryAfterSeconds = "30";
    private const string Prefix = "/v1.0";
    private const string ODataTypePrefix = "#microsoft.graph.";

    /// <summary>The <see cref="HttpContext.Items"/> key of the request's <see cref="AdminActor"/>, set once its token is accepted.</summary>
    private const string ActorItem = "Portal.IdpEmulator.GraphActor";
    private const int MinTapLifetime = 10;
    private const int MaxTapLifetime = 43200;
    private const int DefaultTapLifetime = 60;
    internal const string DefaultMethodRefusal = "Cannot delete default method with other methods configured. Please change default method before deletion.";
    internal const string SyncedUserRefusal = "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.";

    private static readonly Dictionary<string, string> DeletableMethods = new(StringComparer.Ordinal)
    {
        ["microsoftAuthenticatorMethods"] = "microsoftAuthenticatorAuthenticationMethod",
        ["softwareOathMethods"] = "softwareOathAuthenticationMethod",
        ["phoneMethods"] = "phoneAuthenticationMethod",
        ["fido2Methods"] = "fido2AuthenticationMethod",
        ["emailMethods"] = "emailAuthenticationMethod",
        ["windowsHelloForBusinessMethods"] = "windowsHelloForBusinessAuthenticationMethod",
        ["temporaryAccessPassMethods"] = GraphDirectory.TapType,
    };

    public static void Map(WebApplication app, EmulatorState state, EmulatorContext context, OidcAuthority? signIn = null)
    {
        var graph = state.Graph;
        app.MapPost("/{tenant}/oauth2/v2.0/token", (HttpContext http, string tenant) =>
            // One token endpoint per directory, as in Entra: client credentials for Graph, authorization codes for sign-in.
            signIn is not null && http.Request.HasFormContentType && http.Request.Form["grant_type"] == "authorization_code"
                ? signIn.Token(http, tenant, http.Request.Form.ToDictionary(f => f.Key, f => f.Value.ToString()))
                : IssueToken(http, graph, context, tenant));

        app.UseWhen(c => c.Request.Path.StartsWithSegments(Prefix, StringComparison.Ordinal), branch => branch.Use(async (http, next) =>
        {
            var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (http.Request.Path + http.Request.QueryString).ToString();
            http.Request.EnableBuffering();
            string body;
            using (var reader = new StreamReader(http.Request.Body, Encoding.UTF8, false, 4096, leaveOpen: true))
            {
                body = await reader.ReadToEndAsync(http.RequestAborted);
            }

            http.Request.Body.Position = 0;
            state.Record(new RecordedRequest(http.Request.Method, raw, body, http.Request.Host.Value ?? ""));

            if (state.IsOutage)
            {
                await Write(http, Fault(503, graph));
                return;
            }

            if (!IsAuthorized(http.Request.Headers.Authorization.ToString(), graph, out var why))
            {
                await Write(http, (401, ErrorBody("InvalidAuthenticationToken", why, graph)));
                return;
            }

            // Graph checks the app's application permissions before anything else about the request.
            var accepted = PermissionsFor(http.Request.Method, http.Request.Path.Value?[Prefix.Length..] ?? "");
            if (accepted is not null && !graph.RolesOf(http.Request.Headers.Authorization.ToString()["Bearer ".Length..].Trim()).Any(accepted.Contains))
            {
                await Write(http, (403, ErrorBody("Authorization_RequestDenied", "Insufficient privileges to complete the operation.", graph)));
                return;
            }

            // Directory audits name an app-only call's app (initiatedBy.app) by the client id its token was issued to.
            var appId = graph.AppOf(http.Request.Headers.Authorization.ToString()["Bearer ".Length..].Trim()) ?? "";
            var client = context.Options.GraphClients.FirstOrDefault(c => c.ClientId == appId);
            http.Items[ActorItem] = new AdminActor(AdminActorKind.GraphApp, GraphDirectory.GuidFor("sp/" + appId), appId, client?.DisplayName ?? appId, appId)
            {
                IpAddress = http.Connection.RemoteIpAddress?.ToString() ?? "",
                UserAgent = http.Request.Headers.UserAgent.ToString(),
            };

            if (state.TakeFault(raw) is { } status)
            {
                if (status == 429)
                {
                    http.Response.Headers.RetryAfter = RetryAfterSeconds;
                }

                await Write(http, Fault(status, graph));
                return;
            }

            await next(http);
        }));

        var api = app.MapGroup(Prefix);
        api.MapGet("/users", (HttpContext http) => ListUsers(http, graph));
        api.MapGet("/users/{idOrUpn}", (HttpContext http, string idOrUpn) =>
            state.FindEntraAgentById(idOrUpn) is { } agent && graph.FindByIdOrUpn(idOrUpn) is null
                ? Json(AgentUserJson(agent, graph))
                : WithUser(graph, idOrUpn, user => Expand(http, graph) is { } bad ? bad : Json(UserJson(user, graph, Selected(http), ExpandsManager(http)))));
        // The user's manager: a user (answered with the user's fields, $select honoured) or an organisational contact;
        // none is Graph's 404 Request_ResourceNotFound naming the 'manager' reference.
        api.MapGet("/users/{idOrUpn}/manager", (HttpContext http, string idOrUpn) => WithUser(graph, idOrUpn, user => Manager(http, graph, user)));
        api.MapPatch("/users/{idOrUpn}", (HttpContext http, string idOrUpn) => WithUser(graph, idOrUpn, user => PatchUser(http, state, user)));
        api.MapGet("/users/{idOrUpn}/authentication/methods", (string idOrUpn) => WithUser(graph, idOrUpn, user =>
            Json(new JsonObject
            {
                ["@odata.context"] = Context($"users('{user.Id}')/authentication/methods"),
                ["value"] = new JsonArray([.. user.Methods.Select(m => (JsonNode)MethodJson(m, graph))]),
            })));
        // Graph accepts the cast segment with the full namespace or its "graph" alias (which the v5 SDK sends).
        foreach (var cast in new[] { "microsoft.graph.directoryRole", "graph.directoryRole" })
        {
            api.MapGet("/users/{idOrUpn}/memberOf/" + cast, (string idOrUpn) => WithUser(graph, idOrUpn, user =>
                Json(new JsonObject
                {
                    ["@odata.context"] = Context("directoryRoles"),
                    ["value"] = user.IsGlobalAdmin ? new JsonArray(GlobalAdministratorJson()) : new JsonArray(),
                })));
        }

        // Role-assignable groups are the only groups that can hold a directory role; Graph lists a user's groups,
        // nested ones included, under this cast (namespace or alias form).
        foreach (var cast in new[] { "microsoft.graph.group", "graph.group" })
        {
            api.MapGet("/users/{idOrUpn}/transitiveMemberOf/" + cast, (HttpContext http, string idOrUpn) => WithUser(graph, idOrUpn, user =>
                TransitiveGroups(http, graph, context, user)));
        }

        api.MapGet("/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass", (HttpContext http) => TapPolicy(http, graph));
        api.MapGet("/roleManagement/directory/roleAssignments", (HttpContext http) => RoleGrants(http, graph, eligible: false));
        api.MapGet("/roleManagement/directory/roleEligibilitySchedules", (HttpContext http) => RoleGrants(http, graph, eligible: true));
        api.MapPost("/users/{idOrUpn}/authentication/temporaryAccessPassMethods", (HttpContext http, string idOrUpn) =>
            WithUser(graph, idOrUpn, user => IssueTap(http, state, user)));
        api.MapDelete("/users/{idOrUpn}/authentication/{collection}/{methodId}", (HttpContext http, string idOrUpn, string collection, string methodId) =>
            WithUser(graph, idOrUpn, user =>
            {
                if (!DeletableMethods.TryGetValue(collection, out var type))
                {
                    return Error(400, "BadRequest", $"Resource not found for the segment '{collection}'.", graph);
                }

                if (user.IsGlobalAdmin)
                {
                    return InsufficientPrivileges(graph);
                }

                var removal = user.RemoveMethod(type, methodId);
                if (removal == MethodRemoval.Removed)
                {
                    state.RecordEntra(AdminActivityKind.FactorRemoved, ActorOf(http), user, type);
                }

                return removal switch
                {
                    MethodRemoval.Removed => Results.StatusCode(204),
                    // Graph's answer when the default method is deleted while the user has other MFA methods.
                    MethodRemoval.IsDefault => Error(400, "badRequest", DefaultMethodRefusal, graph),
                    _ => Error(404, "itemNotFound", "The requested authentication method was not found.", graph),
                };
            }));
        api.MapPost("/users/{idOrUpn}/revokeSignInSessions", (HttpContext http, string idOrUpn) => WithUser(graph, idOrUpn, user =>
        {
            user.CountSessionsRevoked();
            state.RecordEntra(AdminActivityKind.SessionsCleared, ActorOf(http), user);
            return Json(new JsonObject
            {
                ["@odata.context"] = Context("Edm.Boolean"),
                ["value"] = true,
            });
        }));
        api.MapGet("/auditLogs/directoryAudits", (HttpContext http) => GraphDirectoryAudits.List(http, state, context));
        api.Map("/{**rest}", (string? rest) => Error(400, "BadRequest", $"Resource not found for the segment '{rest?.Split('/')[0]}'.", graph));
    }

    private static IResult IssueToken(HttpContext http, GraphDirectory graph, EmulatorContext context, string tenant) =>
        EntraClientCredentials.Issue(
            http, context, tenant, knows: _ => true,
            refuseTarget: form => form["scope"].ToString().EndsWith("/.default", StringComparison.Ordinal)
                ? null
                : ("invalid_scope", "AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier."),
            answer: client => new JsonObject
            {
                ["token_type"] = "Bearer",
                ["expires_in"] = (int)GraphDirectory.TokenLifetime.TotalSeconds,
                ["ext_expires_in"] = (int)GraphDirectory.TokenLifetime.TotalSeconds,
                ["access_token"] = graph.IssueToken(tenant, client.ClientId, client.ApplicationPermissions ?? EmulatorClient.PortalGraphPermissions),
            });

    private static bool IsAuthorized(string header, GraphDirectory graph, out string why)
    {
        const string Scheme = "Bearer ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || header.Length == Scheme.Length)
        {
            why = "Access token is empty.";
            return false;
        }

        why = "Lifetime validation failed, the token is expired.";
        return graph.IsValidToken(header[Scheme.Length..].Trim());
    }

    /// <summary>
    /// Graph's <c>GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass</c>:
    /// a <c>temporaryAccessPassAuthenticationMethodConfiguration</c>. Graph documents Policy.Read.All as the least
    /// privileged application permission for it (Policy.ReadWrite.AuthenticationMethod also allows it); without
    /// either, 403 Authorization_RequestDenied.
    /// </summary>
    private static IResult TapPolicy(HttpContext http, GraphDirectory graph)
    {
        var roles = graph.RolesOf(http.Request.Headers.Authorization.ToString()["Bearer ".Length..].Trim());
        if (!roles.Contains("Policy.Read.All") && !roles.Contains("Policy.ReadWrite.AuthenticationMethod"))
        {
            return InsufficientPrivileges(graph);
        }

        var policy = graph.TapPolicy;
        return Json(new JsonObject
        {
            ["@odata.context"] = Context("policies/authenticationMethodsPolicy/authenticationMethodConfigurations/$entity"),
            ["@odata.type"] = ODataTypePrefix + "temporaryAccessPassAuthenticationMethodConfiguration",
            ["id"] = "TemporaryAccessPass",
            ["state"] = policy.Enabled ? "enabled" : "disabled",
            ["defaultLifetimeInMinutes"] = policy.DefaultLifetimeInMinutes,
            ["defaultLength"] = 8,
            ["minimumLifetimeInMinutes"] = policy.MinimumLifetimeInMinutes,
            ["maximumLifetimeInMinutes"] = policy.MaximumLifetimeInMinutes,
            ["isUsableOnce"] = false,
            ["excludeTargets"] = new JsonArray(),
            ["includeTargets@odata.context"] = Context("policies/authenticationMethodsPolicy/authenticationMethodConfigurations('TemporaryAccessPass')/microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration/includeTargets"),
            ["includeTargets"] = new JsonArray(new JsonObject { ["targetType"] = "group", ["id"] = "all_users", ["isRegistrationRequired"] = false }),
        });
    }

    private static IResult ListUsers(HttpContext http, GraphDirectory graph)
    {
        foreach (var key in http.Request.Query.Keys)
        {
            if (key is not ("$filter" or "$select" or "$top" or "$expand"))
            {
                return Error(400, "BadRequest", $"Query option '{key}' is not allowed.", graph);
            }
        }

        if (Expand(http, graph) is { } badExpand)
        {
            return badExpand;
        }

        var users = graph.Users.AsEnumerable();
        if (http.Request.Query.TryGetValue("$filter", out var filter))
        {
            var terms = GraphFilterExpression.Parse(filter.ToString());
            if (terms is null)
            {
                return Error(400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified.", graph);
            }

            users = users.Where(u => terms.Any(t => string.Equals(
                t.Attribute == "mail" ? u.Mail : u.UserPrincipalName, t.Value, StringComparison.OrdinalIgnoreCase)));
        }

        if (http.Request.Query.TryGetValue("$top", out var topText))
        {
            if (!int.TryParse(topText, NumberStyles.None, CultureInfo.InvariantCulture, out var top) || top is < 1 or > 999)
            {
                return Error(400, "Request_BadRequest", "Invalid page size specified.", graph);
            }

            users = users.Take(top);
        }

        var selected = Selected(http);
        return Json(new JsonObject
        {
            ["@odata.context"] = Context("users"),
            ["value"] = new JsonArray([.. users.Select(u => (JsonNode)UserJson(u, graph, selected, ExpandsManager(http)))]),
        });
    }

    /// <summary>Graph's default page of directory objects, and the most <c>$top</c> may ask for.</summary>
    internal const int DirectoryObjectsDefaultPage = 100;
    internal const int DirectoryObjectsMaxPage = 999;

    /// <summary>
    /// A user's groups, nested ones included, paged as Graph pages directory objects: 100 by default, <c>$top</c> up to
    /// 999, and an <c>@odata.nextLink</c> with an opaque <c>$skiptoken</c> (here the position after the page) while
    /// there is more.
    /// </summary>
    private static IResult TransitiveGroups(HttpContext http, GraphDirectory graph, EmulatorContext context, EntraUser user)
    {
        var query = http.Request.Query;
        var top = DirectoryObjectsDefaultPage;
        if (query.TryGetValue("$top", out var topText)
            && (!int.TryParse(topText, NumberStyles.None, CultureInfo.InvariantCulture, out top) || top is < 1 or > DirectoryObjectsMaxPage))
        {
            return Error(400, "Request_BadRequest", "Invalid page size specified.", graph);
        }

        var skip = 0;
        if (query.TryGetValue("$skiptoken", out var skipText)
            && (skipText.ToString() is not ['g', .. var position] || !int.TryParse(position, NumberStyles.None, CultureInfo.InvariantCulture, out skip)))
        {
            return Error(400, "BadRequest", "Invalid $skiptoken: follow @odata.nextLink.", graph);
        }

        var groups = user.Groups;
        var page = groups.Skip(skip).Take(top).ToList();
        var body = new JsonObject
        {
            ["@odata.context"] = Context("groups(id,displayName,isAssignableToRole)"),
            ["value"] = new JsonArray([.. page.Select(g => (JsonNode)new JsonObject
            {
                ["@odata.type"] = ODataTypePrefix + "group",
                ["id"] = g.Id,
                ["displayName"] = g.DisplayName,
                ["isAssignableToRole"] = g.IsAssignableToRole,
            })]),
        };
        if (skip + page.Count < groups.Count)
        {
            var next = QueryString.Create(query
                .Where(q => q.Key != "$skiptoken")
                .Select(q => new KeyValuePair<string, string?>(q.Key, q.Value.ToString()))
                .Append(new KeyValuePair<string, string?>("$skiptoken", "g" + (skip + page.Count).ToString(CultureInfo.InvariantCulture))));
            body["@odata.nextLink"] = new Uri(context.BaseFor(http.Request), http.Request.Path.ToUriComponent().TrimStart('/') + next.ToUriComponent()).AbsoluteUri;
        }

        return Json(body);
    }

    /// <summary>The only navigation the emulator expands is the user's manager (<c>$expand=manager</c>, optionally with a <c>$select</c>); anything else is a 400 as Graph gives for an unknown property.</summary>
    private static IResult? Expand(HttpContext http, GraphDirectory graph)
    {
        var expand = http.Request.Query["$expand"].ToString();
        return expand.Length == 0 || ExpandsManager(http)
            ? null
            : Error(400, "BadRequest", $"Could not find a property named '{expand}' on type 'microsoft.graph.user'.", graph);
    }

    private static bool ExpandsManager(HttpContext http)
    {
        var expand = http.Request.Query["$expand"].ToString();
        return expand == "manager" || (expand.StartsWith("manager($select=", StringComparison.Ordinal) && expand.EndsWith(')'));
    }

    /// <summary>A helpdesk agent read by object id: agents are users of the directory too.</summary>
    private static JsonObject AgentUserJson(EntraAgent agent, GraphDirectory graph) => new()
    {
        ["@odata.type"] = ODataTypePrefix + "user",
        ["id"] = agent.ObjectId,
        ["userPrincipalName"] = agent.UserPrincipalName,
        ["mail"] = agent.UserPrincipalName,
        ["displayName"] = agent.Name,
        ["accountEnabled"] = true,
        ["createdDateTime"] = Timestamp(graph.Now.AddDays(-500)),
    };

    private static HashSet<string> Selected(HttpContext http) =>
        new(http.Request.Query["$select"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// <c>roleAssignments</c> (active) or <c>roleEligibilitySchedules</c> (PIM-eligible) of one principal, as Graph
    /// answers <c>$filter=principalId eq '{id}'</c>, with the role definition when <c>$expand=roleDefinition</c>.
    /// </summary>
    private static IResult RoleGrants(HttpContext http, GraphDirectory graph, bool eligible)
    {
        var query = http.Request.Query;
        var filter = query["$filter"].ToString();
        const string Prefix = "principalId eq '";
        if (!filter.StartsWith(Prefix, StringComparison.Ordinal) || !filter.EndsWith('\'') || !Guid.TryParseExact(filter[Prefix.Length..^1], "D", out _))
        {
            // Listing every assignment of the directory is allowed by Graph, but the portal never needs it.
            return Error(400, "BadRequest", "Invalid filter clause: the emulator supports principalId eq '{id}' only.", graph);
        }

        var principal = filter[Prefix.Length..^1];
        var expand = query["$expand"].ToString().Split(',').Contains("roleDefinition", StringComparer.Ordinal);
        var type = eligible ? "unifiedRoleEligibilitySchedule" : "unifiedRoleAssignment";
        var grants = graph.RoleGrants.Where(g => g.Eligible == eligible && string.Equals(g.PrincipalId, principal, StringComparison.OrdinalIgnoreCase));
        return Json(new JsonObject
        {
            ["@odata.context"] = Context(eligible ? "roleManagement/directory/roleEligibilitySchedules" : "roleManagement/directory/roleAssignments"),
            ["value"] = new JsonArray([.. grants.Select(g =>
            {
                var json = new JsonObject
                {
                    ["@odata.type"] = ODataTypePrefix + type,
                    ["id"] = GraphDirectory.GuidFor(type + "/" + g.RoleDefinitionId + "/" + g.PrincipalId),
                    ["principalId"] = g.PrincipalId,
                    ["roleDefinitionId"] = g.RoleDefinitionId,
                    ["directoryScopeId"] = g.DirectoryScopeId,
                    ["appScopeId"] = null,
                };
                if (eligible)
                {
                    json["memberType"] = "Direct";
                    json["status"] = "Provisioned";
                    json["createdUsing"] = json["id"]!.GetValue<string>();
                    json["scheduleInfo"] = new JsonObject
                    {
                        ["startDateTime"] = Timestamp(graph.Now.AddDays(-30)),
                        ["expiration"] = new JsonObject { ["type"] = "noExpiration", ["endDateTime"] = null, ["duration"] = null },
                    };
                }

                if (expand)
                {
                    json["roleDefinition"] = new JsonObject
                    {
                        ["@odata.type"] = ODataTypePrefix + "unifiedRoleDefinition",
                        ["id"] = g.RoleDefinitionId,
                        ["templateId"] = g.RoleDefinitionId,
                        ["displayName"] = g.RoleName,
                        ["isBuiltIn"] = g.IsBuiltIn,
                        ["isEnabled"] = true,
                    };
                }

                return (JsonNode)json;
            })]),
        });
    }

    private static async Task<IResult> PatchUser(HttpContext http, EmulatorState state, EntraUser user)
    {
        var graph = state.Graph;
        var body = await ReadBody(http);
        if (body?["passwordProfile"] is not JsonObject profile)
        {
            return Error(400, "Request_BadRequest", "The emulator supports a passwordProfile update only.", graph);
        }

        if (user.IsGlobalAdmin)
        {
            return InsufficientPrivileges(graph);
        }

        // A synced user's password belongs to on-premises AD; Graph refuses to set it in the cloud.
        if (user.OnPremisesSyncEnabled)
        {
            return Error(400, "Request_BadRequest", SyncedUserRefusal, graph);
        }

        var password = profile["password"]?.GetValueKind() == JsonValueKind.String ? profile["password"]!.GetValue<string>() : null;
        if (password is null || !MeetsComplexity(password))
        {
            return Error(400, "Request_BadRequest", "The specified password does not comply with password complexity requirements. Please provide a different password.", graph);
        }

        var force = profile["forceChangePasswordNextSignIn"]?.GetValueKind() == JsonValueKind.True;
        user.CountPasswordReset(force);
        state.RecordEntra(AdminActivityKind.PasswordReset, ActorOf(http), user);
        return Results.StatusCode(204);
    }

    /// <summary>Entra's rule for cloud accounts: 8 to 256 characters, at least three of the four character classes.</summary>
    private static bool MeetsComplexity(string password)
    {
        if (password.Length is < 8 or > 256)
        {
            return false;
        }

        var classes = (password.Any(char.IsAsciiLetterUpper) ? 1 : 0)
            + (password.Any(char.IsAsciiLetterLower) ? 1 : 0)
            + (password.Any(char.IsAsciiDigit) ? 1 : 0)
            + (password.Any(c => !char.IsAsciiLetterOrDigit(c)) ? 1 : 0);
        return classes >= 3;
    }

    private static async Task<IResult> IssueTap(HttpContext http, EmulatorState state, EntraUser user)
    {
        var graph = state.Graph;
        var body = await ReadBody(http);
        if (body is null)
        {
            return Error(400, "BadRequest", "Empty Payload. JSON content expected.", graph);
        }

        var lifetime = DefaultTapLifetime;
        if (body["lifetimeInMinutes"] is { } lifetimeNode)
        {
            if (lifetimeNode.GetValueKind() != JsonValueKind.Number || !int.TryParse(lifetimeNode.ToJsonString(), NumberStyles.None, CultureInfo.InvariantCulture, out lifetime))
            {
                return Error(400, "BadRequest", "Invalid value for lifetimeInMinutes.", graph);
            }
        }

        if (lifetime is < MinTapLifetime or > MaxTapLifetime)
        {
            return Error(400, "badRequest", $"The lifetimeInMinutes must be between {MinTapLifetime} and {MaxTapLifetime}.", graph);
        }

        // The tenant's authentication methods policy decides too: the method enabled, and a lifetime inside its range.
        var policy = graph.TapPolicy;
        if (!policy.Enabled)
        {
            return Error(400, "badRequest", "Temporary Access Pass is not enabled for the user by the authentication methods policy.", graph);
        }

        if (lifetime < policy.MinimumLifetimeInMinutes || lifetime > policy.MaximumLifetimeInMinutes)
        {
            return Error(400, "badRequest", $"The lifetimeInMinutes must be between {policy.MinimumLifetimeInMinutes} and {policy.MaximumLifetimeInMinutes} as the Temporary Access Pass policy sets.", graph);
        }

        var usableOnce = body["isUsableOnce"]?.GetValueKind() == JsonValueKind.True;
        if (user.IsGlobalAdmin)
        {
            return InsufficientPrivileges(graph);
        }

        var now = graph.Now;
        var tap = new EntraMethod(Guid.NewGuid().ToString(), GraphDirectory.TapType, now) { LifetimeInMinutes = lifetime, IsUsableOnce = usableOnce };
        user.ReplaceTemporaryAccessPass(tap);
        state.RecordEntra(AdminActivityKind.TemporaryAccessIssued, ActorOf(http), user, GraphDirectory.TapType);
        var json = TapJson(tap, graph);
        json["@odata.context"] = Context($"users('{user.Id}')/authentication/temporaryAccessPassMethods/$entity");
        // The value exists only in this answer: Graph never returns it again.
        json["temporaryAccessPass"] = RandomNumberGenerator.GetString("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789!#$%&*+=?@", 12);
        return Json(json, 201);
    }

    private static IResult Manager(HttpContext http, GraphDirectory graph, EntraUser user)
    {
        if (graph.ManagerOf(user) is { } manager)
        {
            var json = UserJson(manager, graph, Selected(http));
            json["@odata.context"] = Context("directoryObjects/$entity");
            return Json(json);
        }

        if (user.ManagerIsContact && user.ManagerName is { } contact)
        {
            return Json(new JsonObject
            {
                ["@odata.context"] = Context("directoryObjects/$entity"),
                ["@odata.type"] = ODataTypePrefix + "orgContact",
                ["id"] = GraphDirectory.GuidFor("contact/" + contact),
                ["displayName"] = contact,
            });
        }

        return Error(404, "Request_ResourceNotFound", "Resource 'manager' does not exist or one of its queried reference-property objects are not present.", graph);
    }

    private static JsonObject UserJson(EntraUser user, GraphDirectory graph, HashSet<string>? selected = null, bool expandManager = false)
    {
        var json = new JsonObject
        {
            ["@odata.type"] = ODataTypePrefix + "user",
            ["id"] = user.Id,
            ["userPrincipalName"] = user.UserPrincipalName,
            ["mail"] = user.Mail,
            ["displayName"] = user.DisplayName,
            ["jobTitle"] = user.JobTitle,
            ["accountEnabled"] = user.AccountEnabled,
            ["createdDateTime"] = Timestamp(graph.Now.AddDays(-400)),
        };

        // A default property, left out when a $select does not name it (as Graph answers only what is selected).
        if (selected is not { Count: > 0 } || selected.Contains("businessPhones"))
        {
            json["businessPhones"] = new JsonArray([.. user.BusinessPhones.Select(p => (JsonNode)p)]);
        }

        // Not default properties: Graph returns them only when selected (onPremisesSyncEnabled null for a cloud-only user).
        if (selected?.Contains("onPremisesSyncEnabled") == true)
        {
            json["onPremisesSyncEnabled"] = user.OnPremisesSyncEnabled ? true : null;
        }

        if (selected?.Contains("department") == true)
        {
            json["department"] = user.Department;
        }

        if (selected?.Contains("lastPasswordChangeDateTime") == true)
        {
            json["lastPasswordChangeDateTime"] = Timestamp(user.LastPasswordChange);
        }

        // An expanded manager that does not exist is left out, as Graph does.
        if (expandManager && user.ManagerName is { } manager)
        {
            json["manager"] = new JsonObject
            {
                ["@odata.type"] = ODataTypePrefix + (user.ManagerIsContact ? "orgContact" : "user"),
                ["id"] = user.ManagerId ?? GraphDirectory.GuidFor("contact/" + manager),
                ["displayName"] = manager,
            };
        }

        return json;
    }

    private static JsonObject MethodJson(EntraMethod method, GraphDirectory graph)
    {
        if (method.ODataType == GraphDirectory.TapType)
        {
            return TapJson(method, graph);
        }

        var json = new JsonObject
        {
            ["@odata.type"] = ODataTypePrefix + method.ODataType,
            ["id"] = method.Id,
        };
        switch (method.ODataType)
        {
            case "passwordAuthenticationMethod":
                json["password"] = null;
                json["createdDateTime"] = Timestamp(method.Created);
                break;
            case "microsoftAuthenticatorAuthenticationMethod":
                json["displayName"] = "Pixel 8";
                json["deviceTag"] = "SoftwareTokenActivated";
                json["phoneAppVersion"] = "6.2401.0119";
                json["createdDateTime"] = Timestamp(method.Created);
                break;
            case "softwareOathAuthenticationMethod":
                json["secretKey"] = null;
                break;
            case "phoneAuthenticationMethod":
                json["phoneNumber"] = "+1 2065550100";
                json["phoneType"] = "mobile";
                json["smsSignInState"] = "notAllowedByPolicy";
                break;
            case "fido2AuthenticationMethod":
                json["displayName"] = "Security key";
                json["aaGuid"] = "2fc0579f-8113-47ea-b116-bb5a8db9202a";
                json["model"] = "YubiKey 5 NFC";
                json["attestationLevel"] = "attested";
                json["createdDateTime"] = Timestamp(method.Created);
                break;
            default:
                json["createdDateTime"] = Timestamp(method.Created);
                break;
        }

        return json;
    }

    private static JsonObject TapJson(EntraMethod tap, GraphDirectory graph)
    {
        var lifetime = tap.LifetimeInMinutes ?? DefaultTapLifetime;
        var usable = graph.Now < tap.Created.AddMinutes(lifetime);
        return new JsonObject
        {
            ["@odata.type"] = ODataTypePrefix + GraphDirectory.TapType,
            ["id"] = tap.Id,
            ["isUsable"] = usable,
            ["methodUsabilityReason"] = usable ? "EnabledByPolicy" : "Expired",
            ["temporaryAccessPass"] = null,
            ["createdDateTime"] = Timestamp(tap.Created),
            ["startDateTime"] = Timestamp(tap.Created),
            ["lifetimeInMinutes"] = lifetime,
            ["isUsableOnce"] = tap.IsUsableOnce,
        };
    }

    private static JsonObject GlobalAdministratorJson() => new()
    {
        ["@odata.type"] = ODataTypePrefix + "directoryRole",
        ["id"] = GraphDirectory.GuidFor("role/global-administrator"),
        ["displayName"] = "Global Administrator",
        ["roleTemplateId"] = "62e90394-69f5-4237-9190-012177145e10",
    };

    private static async Task<JsonObject?> ReadBody(HttpContext http)
    {
        try
        {
            return await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IResult WithUser(GraphDirectory graph, string idOrUpn, Func<EntraUser, IResult> action) =>
        graph.FindByIdOrUpn(idOrUpn) is { } user ? action(user) : UserNotFound(idOrUpn, graph);

    private static Task<IResult> WithUser(GraphDirectory graph, string idOrUpn, Func<EntraUser, Task<IResult>> action) =>
        graph.FindByIdOrUpn(idOrUpn) is { } user ? action(user) : Task.FromResult(UserNotFound(idOrUpn, graph));

    private static IResult UserNotFound(string idOrUpn, GraphDirectory graph) => Error(
        404,
        "Request_ResourceNotFound",
        $"Resource '{idOrUpn}' does not exist or one of its queried reference-property objects are not present.",
        graph);

    private static readonly string[] ReadUsers = ["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
    private static readonly string[] WriteUsers = ["User.ReadWrite.All", "Directory.ReadWrite.All"];
    private static readonly string[] ReadMethods = ["UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"];
    private static readonly string[] WriteMethods = ["UserAuthenticationMethod.ReadWrite.All"];
    private static readonly string[] RevokeSessions = ["User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All"];
    private static readonly string[] ReadMemberships = ["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"];
    private static readonly string[] ReadAuditLogs = ["AuditLog.Read.All"];
    private static readonly string[] ReadDirectoryRoles = ["RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory", "Directory.Read.All", "Directory.ReadWrite.All"];

    /// <summary>
    /// The application permissions Microsoft's Graph v1.0 reference lists for a call (the least privileged one first,
    /// then the higher ones); a token with none of them is refused with 403 Authorization_RequestDenied. Null: the
    /// call is not gated here (the TAP policy read checks its own, an unknown path is answered by its route).
    /// </summary>
    internal static string[]? PermissionsFor(string method, string path)
    {
        var segments = path.Trim('/').Split('/');
        return (method, segments) switch
        {
            ("GET", ["users"]) or ("GET", ["users", _]) or ("GET", ["users", _, "manager"]) => ReadUsers,
            ("PATCH", ["users", _]) => WriteUsers,
            ("GET", ["users", _, "authentication", "methods"]) => ReadMethods,
            ("POST", ["users", _, "authentication", _]) or ("DELETE", ["users", _, "authentication", _, _]) => WriteMethods,
            ("POST", ["users", _, "revokeSignInSessions"]) => RevokeSessions,
            ("GET", ["users", _, "memberOf" or "transitiveMemberOf", _]) => ReadMemberships,
            ("GET", ["roleManagement", ..]) => ReadDirectoryRoles,
            // Microsoft's reference lists AuditLog.Read.All and Directory.Read.All together; the emulator asks for the first.
            ("GET", ["auditLogs", "directoryAudits"]) => ReadAuditLogs,
            _ => null,
        };
    }

    /// <summary>Who the directory audits name for this request (set once its token is accepted).</summary>
    private static AdminActor ActorOf(HttpContext http) => (AdminActor)http.Items[ActorItem]!;

    private static IResult InsufficientPrivileges(GraphDirectory graph) =>
        Error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", graph);

    internal static string Context(string what) => "https://graph.microsoft.com/v1.0/$metadata#" + what;

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    internal static IResult Json(JsonNode node, int status = 200) =>
        Results.Text(node.ToJsonString(), "application/json; odata.metadata=minimal; charset=utf-8", Encoding.UTF8, status);

    internal static IResult Error(int status, string code, string message, GraphDirectory graph) =>
        Json(ErrorBody(code, message, graph), status);

    private static (int Status, JsonObject Body) Fault(int status, GraphDirectory graph) => status switch
    {
        429 => (429, ErrorBody("TooManyRequests", "Too many requests.", graph)),
        503 => (503, ErrorBody("serviceNotAvailable", "The service is temporarily unavailable.", graph)),
        >= 500 => (status, ErrorBody("generalException", "An unexpected error occurred.", graph)),
        403 => (403, ErrorBody("Authorization_RequestDenied", "Insufficient privileges to complete the operation.", graph)),
        404 => (404, ErrorBody("Request_ResourceNotFound", "Resource does not exist.", graph)),
        401 => (401, ErrorBody("InvalidAuthenticationToken", "Access token validation failure.", graph)),
        _ => (status, ErrorBody("BadRequest", "The request was refused.", graph)),
    };

    private static JsonObject ErrorBody(string code, string message, GraphDirectory graph) => new()
    {
        ["error"] = new JsonObject
        {
            ["code"] = code,
            ["message"] = message,
            ["innerError"] = new JsonObject
            {
                ["date"] = Timestamp(graph.Now),
                ["request-id"] = Guid.NewGuid().ToString(),
                ["client-request-id"] = Guid.NewGuid().ToString(),
            },
        },
    };

    private static async Task Write(HttpContext http, (int Status, JsonObject Body) error)
    {
        http.Response.StatusCode = error.Status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(error.Body.ToJsonString(), http.RequestAborted);
    }
}
