using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;

namespace Portal.IdpEmulator;

/// <summary>The Okta Management API subset (/api/v1) the portal calls, with Okta's shapes and errors.</summary>
internal static class OktaApi
{
    private const int RateLimit = 600;

    /// <summary>The <see cref="HttpContext.Items"/> key of the request's <see cref="AdminActor"/>, set once it is authenticated.</summary>
    private const string ActorItem = "Portal.IdpEmulator.OktaActor";

    public static void Map(WebApplication app, EmulatorState state, EmulatorContext context, OktaServiceApps serviceApps)
    {
        var window = new RateWindow();
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/api/v1", StringComparison.Ordinal), branch => branch.Use(async (http, next) =>
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

            var (remaining, reset) = window.Take(state.Now);
            http.Response.Headers["X-Rate-Limit-Limit"] = RateLimit.ToString(CultureInfo.InvariantCulture);
            http.Response.Headers["X-Rate-Limit-Remaining"] = remaining.ToString(CultureInfo.InvariantCulture);
            http.Response.Headers["X-Rate-Limit-Reset"] = reset.ToString(CultureInfo.InvariantCulture);

            if (state.IsOutage)
            {
                await Write(http, FaultError(503));
                return;
            }

            var authorization = http.Request.Headers.Authorization.ToString();
            var space = authorization.IndexOf(' ', StringComparison.Ordinal);
            var scheme = space > 0 ? authorization[..space] : "";
            var ipAddress = http.Connection.RemoteIpAddress?.ToString() ?? "";
            var userAgent = http.Request.Headers.UserAgent.ToString();
            if (scheme is "Bearer" or "DPoP")
            {
                if (serviceApps.Check(http, scheme, authorization[(space + 1)..]) is { } refusal)
                {
                    http.Response.Headers.WWWAuthenticate = refusal.Challenge;
                    await Write(http, (refusal.Status, refusal.Body));
                    return;
                }

                // Okta logs a client-credentials call as the app itself (PublicClientApp), its client id as client.id.
                var serviceApp = serviceApps.AppFor(authorization[(space + 1)..])!;
                http.Items[ActorItem] = new AdminActor(AdminActorKind.OktaServiceApp, serviceApp.ClientId, serviceApp.ClientId, serviceApp.Label, serviceApp.ClientId)
                {
                    IpAddress = ipAddress,
                    UserAgent = userAgent,
                };
            }
            else if (!IsAuthorized(authorization, context.Options.OktaApiToken))
            {
                await Write(http, (401, ErrorBody("E0000011", "Invalid token provided")));
                return;
            }
            else
            {
                // "API tokens act on behalf of the admin who created them": the owner is the actor, the token's id
                // the only sign that the call came through the token.
                http.Items[ActorItem] = AdminActor.OktaApiTokenOwner(ipAddress, userAgent);
            }

            if (state.TakeFault(raw) is { } status)
            {
                if (status == 429)
                {
                    http.Response.Headers["X-Rate-Limit-Remaining"] = "0";
                }

                await Write(http, FaultError(status));
                return;
            }

            await next(http);
        }));

        // Okta's org metadata: the canonical org URL and which engine (pipeline) the org runs. Unauthenticated.
        app.MapGet("/.well-known/okta-organization", (HttpContext http) => Json(new JsonObject
        {
            ["id"] = EmulatorState.DeterministicId("00o", "org"),
            ["pipeline"] = state.ClassicEngine ? "v1" : "idx",
            ["_links"] = new JsonObject
            {
                ["organization"] = new JsonObject { ["href"] = context.BaseFor(http.Request).GetLeftPart(UriPartial.Authority) },
            },
        }));

        var api = app.MapGroup("/api/v1");
        api.MapGet("/users/{idOrLogin}", (HttpContext http, string idOrLogin) =>
            state.FindByIdOrLogin(idOrLogin) is { } user ? Json(UserJson(user, Base(http)))
            : state.FindAgentById(idOrLogin) is { } agent ? Json(AgentUserJson(agent, Base(http), state.Now))
            : UserNotFound(idOrLogin));
        api.MapGet("/users", (HttpContext http) => SearchUsers(http, state, context));
        api.MapGet("/users/{uid}/factors", (HttpContext http, string uid) => WithUser(state, uid, user =>
            Json(new JsonArray([.. user.Factors.Select(f => (JsonNode)FactorJson(user, f, Base(http)))]))));
        api.MapGet("/users/{uid}/groups", (HttpContext http, string uid) => WithUser(state, uid, user => UserGroups(http, context, user)));
        api.MapGet("/users/{uid}/roles", (string uid) => WithUser(state, uid, user =>
            Json(new JsonArray([.. RolesOf(user, state).Select(r => (JsonNode)RoleJson(r.Type, r.AssignmentType, r.Seed, user.Created, state))]))));
        api.MapGet("/groups/{gid}/roles", (string gid) => state.GroupById(gid) is { } group
            ? Json(new JsonArray([.. state.GroupRoles(group).Select(r => (JsonNode)RoleJson(r, "GROUP", group + "/" + r, state.Now.AddDays(-300), state))]))
            : NotFound(gid, "UserGroup"));
        api.MapPost("/users/{uid}/factors/{fid}/verify", (HttpContext http, string uid, string fid) =>
            Verify(http, state, Base(http), uid, fid));
        api.MapGet("/users/{uid}/factors/{fid}/transactions/{txId}", (HttpContext http, string uid, string fid, string txId) =>
            Poll(state, Base(http), uid, fid, txId));
        api.MapDelete("/users/{uid}/factors/{fid}/transactions/{txId}", (string uid, string fid, string txId) =>
        {
            var push = state.FindPush(txId);
            if (push is null || push.UserId != uid || push.FactorId != fid)
            {
                return NotFound(txId, "Transaction");
            }

            state.CancelPush(push);
            return Results.StatusCode(204);
        });
        api.MapPost("/users/{uid}/lifecycle/reset_password", (HttpContext http, string uid) => WithUser(state, uid, user =>
            ResetPassword(http, state, Base(http), user)));
        api.MapPost("/users/{uid}/lifecycle/expire_password_with_temp_password", (HttpContext http, string uid) => WithUser(state, uid, user =>
        {
            if (NotInStatus(user, PasswordStatuses) is { } refused)
            {
                return refused;
            }

            RevokeSessionsIfAsked(http, user);
            state.SetStatus(user, "PASSWORD_EXPIRED");
            user.CountTemporaryPassword();
            state.RecordOkta(AdminActivityKind.PasswordExpired, ActorOf(http), user);
            return Json(new JsonObject { ["tempPassword"] = RandomNumberGenerator.GetString("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789", 12) });
        }));
        api.MapPost("/users/{uid}/lifecycle/reset_factors", (HttpContext http, string uid) => WithUser(state, uid, user =>
        {
            if (NotInStatus(user, FactorResetStatuses) is { } refused)
            {
                return refused;
            }

            state.RemoveFactors(user);
            user.CountFactorsReset();
            state.RecordOkta(AdminActivityKind.FactorsReset, ActorOf(http), user);
            return Results.StatusCode(200);
        }));
        api.MapPost("/users/{uid}/lifecycle/unlock", (HttpContext http, string uid) => WithUser(state, uid, user =>
        {
            // Okta unlocks a LOCKED_OUT user, and also accepts an ACTIVE one (it clears a block on unknown
            // devices); the spec documents no 400 here. Any other status is not one a user can be unlocked from.
            if (NotInStatus(user, UnlockStatuses) is { } refused)
            {
                return refused;
            }

            if (user.CredentialsProvider is not "OKTA")
            {
                // A directory-sourced account is unlocked in its directory, not in Okta.
                return Error(403, "E0000032", "Unlock is not allowed for this user.");
            }

            if (user.Status == "LOCKED_OUT")
            {
                state.SetStatus(user, "ACTIVE");
            }

            user.CountUnlock();
            state.RecordOkta(AdminActivityKind.Unlocked, ActorOf(http), user);
            return Results.StatusCode(200);
        }));
        api.MapDelete("/users/{uid}/sessions", (HttpContext http, string uid) => WithUser(state, uid, user =>
        {
            user.CountSessionsRevoked();
            state.RecordOkta(AdminActivityKind.SessionsCleared, ActorOf(http), user);
            return Results.StatusCode(204);
        }));
        api.MapGet("/authenticators", () => state.ClassicEngine ? ClassicNotFound("authenticators") : Json(AuthenticatorsJson(state)));
        api.MapPost("/users/{uid}/authenticator-enrollments/tac", (HttpContext http, string uid) => state.ClassicEngine
            ? Task.FromResult(ClassicNotFound("tac"))
            : WithUser(state, uid, user => EnrollTac(http, state, Base(http), user)));
        api.MapGet("/logs", (HttpContext http) => OktaSystemLog.List(http, state, context));
        api.Map("/{**rest}", (string? rest) => Error(404, "E0000007", "Not found: Resource not found: " + rest));

        Uri Base(HttpContext http) => context.BaseFor(http.Request);
    }

    /// <summary>Statuses from which Okta resets or expires a password; any other is refused with E0000038.</summary>
    internal static readonly string[] PasswordStatuses = ["ACTIVE", "LOCKED_OUT", "PASSWORD_EXPIRED", "RECOVERY"];

    internal static readonly string[] FactorResetStatuses = ["ACTIVE", "LOCKED_OUT", "PASSWORD_EXPIRED", "RECOVERY", "SUSPENDED", "PROVISIONED"];

    internal static readonly string[] UnlockStatuses = ["ACTIVE", "LOCKED_OUT"];

    internal static readonly string[] TacStatuses = ["ACTIVE", "LOCKED_OUT", "PASSWORD_EXPIRED", "RECOVERY"];

    /// <summary>Okta's answer to a lifecycle operation the user's status does not allow: 403 E0000038.</summary>
    private static IResult? NotInStatus(DemoCaller user, string[] allowed) => allowed.Contains(user.Status)
        ? null
        : Error(403, "E0000038", "This operation is not allowed in the user's current status.");

    private static IResult ClassicNotFound(string what) => Error(404, "E0000007", "Not found: Resource not found: " + what);

    private static IEnumerable<(string Type, string AssignmentType, string Seed)> RolesOf(DemoCaller user, EmulatorState state) =>
        user.DirectRoles.Select(r => (r, "USER", user.Id + "/" + r))
            .Concat(user.Groups.SelectMany(g => state.GroupRoles(g).Select(r => (r, "GROUP", g + "/" + r))));

    internal static string AuthenticatorId(string key) => EmulatorState.DeterministicId("aut", "authenticator/" + key);

    private static bool IsAuthorized(string header, string token)
    {
        const string Scheme = "SSWS ";
        if (token.Length == 0 || !header.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return false;
        }

        // Constant-time, so that the token cannot be guessed byte by byte from response timing.
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[Scheme.Length..]), Encoding.UTF8.GetBytes(token));
    }

    private static IResult SearchUsers(HttpContext http, EmulatorState state, EmulatorContext context)
    {
        var query = http.Request.Query;
        var expressionText = query.ContainsKey("search") ? query["search"].ToString()
            : query.ContainsKey("filter") ? query["filter"].ToString()
            : null;
        var limit = 200;
        if (query.TryGetValue("limit", out var limitText)
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1))
        {
            return Error(400, "E0000001", "Api validation failed: limit", "limit: must be a positive integer.");
        }

        IEnumerable<DemoCaller> users = state.Callers;
        if (expressionText is not null)
        {
            var expression = OktaSearchExpression.Parse(expressionText);
            if (expression is null)
            {
                return Error(400, "E0000001", "Api validation failed: search", "Invalid search criteria.");
            }

            users = users.Where(expression.Matches);
        }

        // Okta pages with an opaque `after` cursor and says where the next page is in a Link header (rel="next");
        // here the cursor is the id of the last user of the page.
        var matched = users.ToList();
        var start = 0;
        if (query.TryGetValue("after", out var after))
        {
            var index = matched.FindIndex(u => u.Id == after.ToString());
            start = index < 0 ? matched.Count : index + 1;
        }

        var page = matched.Skip(start).Take(limit).ToList();
        var baseUrl = context.BaseFor(http.Request);
        PageLinks(http, baseUrl, "api/v1/users", start + page.Count < matched.Count && page.Count > 0 ? page[^1].Id : null);
        return Json(new JsonArray([.. page.Select(u => (JsonNode)UserJson(u, baseUrl))]));
    }

    /// <summary>The most groups Okta answers per page of a user's groups, and its default (listUserGroups' <c>limit</c>, Okta's API reference).</summary>
    internal const int UserGroupsMaxLimit = 200;

    /// <summary>
    /// A user's groups as Okta pages them: <c>limit</c> (at most 200, the default), an opaque <c>after</c> cursor (here
    /// the id of the last group of the page) and a <c>Link</c> header with <c>rel="self"</c> and, when there is more,
    /// <c>rel="next"</c>. The spec documents no 400 for this operation, so a limit out of range is not refused: a
    /// larger one is answered with 200 a page, one that is not a positive integer with the default.
    /// </summary>
    private static IResult UserGroups(HttpContext http, EmulatorContext context, DemoCaller user)
    {
        var query = http.Request.Query;
        var limit = query.TryGetValue("limit", out var limitText)
            && int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out var asked) && asked > 0
            ? Math.Min(asked, UserGroupsMaxLimit)
            : UserGroupsMaxLimit;
        var groups = user.Groups;
        var start = 0;
        if (query.TryGetValue("after", out var after))
        {
            var index = groups.ToList().FindIndex(g => EmulatorState.GroupId(g) == after.ToString());
            start = index < 0 ? groups.Count : index + 1;
        }

        var page = groups.Skip(start).Take(limit).ToList();
        PageLinks(http, context.BaseFor(http.Request), $"api/v1/users/{user.Id}/groups", start + page.Count < groups.Count && page.Count > 0 ? EmulatorState.GroupId(page[^1]) : null);
        return Json(new JsonArray([.. page.Select(g => (JsonNode)GroupJson(g))]));
    }

    /// <summary>
    /// Okta's Link header on a page of a listing: <c>rel="self"</c>, and <c>rel="next"</c> with the request's own query
    /// and <paramref name="after"/> as the cursor when there is more.
    /// </summary>
    private static void PageLinks(HttpContext http, Uri baseUrl, string path, string? after)
    {
        var self = new Uri(baseUrl, http.Features.Get<IHttpRequestFeature>()?.RawTarget?.TrimStart('/') ?? path);
        // AbsoluteUri keeps the request's percent-encoding: Uri.ToString() would un-escape non-ASCII
        // characters, which are not allowed in a header value.
        var links = new List<string> { $"<{self.AbsoluteUri}>; rel=\"self\"" };
        if (after is not null)
        {
            var next = QueryString.Create(http.Request.Query
                .Where(q => q.Key != "after")
                .Select(q => new KeyValuePair<string, string?>(q.Key, q.Value.ToString()))
                .Append(new KeyValuePair<string, string?>("after", after)));
            links.Add($"<{new Uri(baseUrl, path + next.ToUriComponent()).AbsoluteUri}>; rel=\"next\"");
        }

        http.Response.Headers.Link = links.ToArray();
    }

    private static async Task<IResult> Verify(HttpContext http, EmulatorState state, Uri baseUrl, string uid, string fid)
    {
        var user = state.FindById(uid);
        if (user is null)
        {
            return UserNotFound(uid);
        }

        var factor = user.Factors.FirstOrDefault(f => f.Id == fid);
        if (factor is null)
        {
            return NotFound(fid, "UserFactor");
        }

        JsonObject? body;
        try
        {
            body = http.Request.ContentLength is 0 ? null : await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted) as JsonObject;
        }
        catch (JsonException)
        {
            return Error(400, "E0000003", "The request body was not well-formed.");
        }

        if (factor.Status != "ACTIVE")
        {
            return Error(400, "E0000001", "Api validation failed: factor", "The factor is not active.");
        }

        switch (factor.FactorType)
        {
            case "push":
                if (string.IsNullOrWhiteSpace(http.Request.Headers.UserAgent))
                {
                    return Error(400, "E0000001", "Api validation failed: User-Agent", "The User-Agent header is required to verify a push factor.");
                }

                // A push without number matching can be approved by a caller who taps anything that pops up
                // (MFA fatigue); the portal must always ask for the number challenge.
                if (body?["useNumberMatchingChallenge"] is not JsonValue match || !match.TryGetValue<bool>(out var wanted) || !wanted)
                {
                    return Error(400, "E0000001", "Api validation failed: useNumberMatchingChallenge", "This emulated org requires number matching: send {\"useNumberMatchingChallenge\":true}.");
                }

                var push = state.StartPush(user, factor);
                return Json(WaitingJson(push, baseUrl), 201);

            case EmulatorState.TotpType:
                var passCode = body?["passCode"] is JsonValue code && code.TryGetValue<string>(out var text) ? text : null;
                if (passCode is null)
                {
                    return Error(400, "E0000001", "Api validation failed: passCode", "passCode: The passcode is required.");
                }

                return state.VerifyTotp(factor, passCode) switch
                {
                    TotpCheck.Success => Json(new JsonObject { ["factorResult"] = "SUCCESS" }),
                    TotpCheck.Replayed => Json(new JsonObject { ["factorResult"] = "PASSCODE_REPLAYED" }),
                    _ => Error(403, "E0000068", "Invalid Passcode/Answer", "Your passcode doesn't match our records. Please try again."),
                };

            default:
                return Error(400, "E0000001", "Api validation failed: factorType", "This factor type cannot be verified through this API.");
        }
    }

    private static IResult Poll(EmulatorState state, Uri baseUrl, string uid, string fid, string txId)
    {
        var push = state.FindPush(txId);
        if (push is null || push.UserId != uid || push.FactorId != fid)
        {
            return NotFound(txId, "Transaction");
        }

        var result = push.ResultAt(state.Now);
        if (result == "WAITING")
        {
            return Json(WaitingJson(push, baseUrl));
        }

        if (result == "SUCCESS")
        {
            return Json(new JsonObject { ["factorResult"] = "SUCCESS" });
        }

        var factorUrl = new Uri(baseUrl, $"api/v1/users/{uid}/factors/{fid}").ToString();
        return Json(new JsonObject
        {
            ["factorResult"] = result,
            ["_links"] = new JsonObject
            {
                ["verify"] = Link(factorUrl + "/verify", "POST"),
                ["factor"] = Link(factorUrl, "GET", "DELETE"),
            },
        });
    }

    private static IResult ResetPassword(HttpContext http, EmulatorState state, Uri baseUrl, DemoCaller user)
    {
        var sendEmail = http.Request.Query["sendEmail"].ToString();
        if (!bool.TryParse(sendEmail, out var send))
        {
            return Error(400, "E0000001", "Api validation failed: sendEmail", "sendEmail: The parameter is required and must be true or false.");
        }

        if (NotInStatus(user, PasswordStatuses) is { } refused)
        {
            return refused;
        }

        RevokeSessionsIfAsked(http, user);
        state.SetStatus(user, "RECOVERY");
        user.CountPasswordReset();
        state.RecordOkta(AdminActivityKind.PasswordReset, ActorOf(http), user);
        return send
            ? Json(new JsonObject())
            : Json(new JsonObject { ["resetPasswordUrl"] = new Uri(baseUrl, "reset_password/" + EmulatorState.RandomString(20)).ToString() });
    }

    private static void RevokeSessionsIfAsked(HttpContext http, DemoCaller user)
    {
        if (string.Equals(http.Request.Query["revokeSessions"], "true", StringComparison.OrdinalIgnoreCase))
        {
            user.CountSessionsRevoked();
        }
    }

    private static async Task<IResult> EnrollTac(HttpContext http, EmulatorState state, Uri baseUrl, DemoCaller user)
    {
        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted) as JsonObject;
        }
        catch (JsonException)
        {
            return Error(400, "E0000003", "The request body was not well-formed.");
        }

        if (NotInStatus(user, TacStatuses) is { } refused)
        {
            return refused;
        }

        var authenticatorId = body?["authenticatorId"] is JsonValue idValue && idValue.TryGetValue<string>(out var id) ? id : null;
        if (authenticatorId != AuthenticatorId("tac"))
        {
            return Error(400, "E0000001", "Api validation failed: authenticatorId", "authenticatorId: must be the id of the tac authenticator.");
        }

        // A deactivated authenticator cannot be enrolled (the spec's ErrorApiValidationFailed400 for this operation).
        if (!state.OktaTacActive)
        {
            return Error(400, "E0000001", "Api validation failed: authenticatorId", "authenticatorId: the authenticator is not active.");
        }

        var profile = body?["profile"] as JsonObject;
        // The spec types ttl as a string of minutes (AuthenticatorProfileTacRequest); a JSON number is refused.
        int? ttl = profile?["ttl"] switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) && int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) => n,
            _ => null,
        };
        if (ttl is null or < 10 or > 14400)
        {
            return Error(400, "E0000001", "Api validation failed: ttl", "ttl: must be a string of minutes between 10 and 14400.");
        }

        var multiUse = false;
        if (profile?["multiUse"] is { } multi && (multi is not JsonValue mv || !mv.TryGetValue(out multiUse)))
        {
            return Error(400, "E0000001", "Api validation failed: multiUse", "multiUse: must be a boolean.");
        }

        user.CountTemporaryAccessCode();
        var now = state.Now;
        var enrollmentId = "aen" + EmulatorState.RandomString(17);
        state.RecordOkta(AdminActivityKind.TemporaryAccessIssued, ActorOf(http), user, enrollmentId);
        return Json(new JsonObject
        {
            ["type"] = "tac",
            ["id"] = enrollmentId,
            ["key"] = "tac",
            ["status"] = "ACTIVE",
            ["created"] = Timestamp(now),
            ["lastUpdated"] = Timestamp(now),
            ["profile"] = new JsonObject
            {
                ["tac"] = RandomNumberGenerator.GetString("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789!@#$%*", 8),
                ["multiUse"] = multiUse,
                ["expiresAt"] = Timestamp(now.AddMinutes(ttl.Value)),
            },
            ["_links"] = new JsonObject
            {
                ["self"] = Link(new Uri(baseUrl, $"api/v1/users/{user.Id}/authenticator-enrollments/{enrollmentId}").ToString(), "GET", "DELETE"),
                ["user"] = Link(new Uri(baseUrl, $"api/v1/users/{user.Id}").ToString(), "GET"),
            },
        });
    }

    private static JsonObject WaitingJson(PushTransaction push, Uri baseUrl)
    {
        var href = new Uri(baseUrl, $"api/v1/users/{push.UserId}/factors/{push.FactorId}/transactions/{push.Id}").ToString();
        return new JsonObject
        {
            ["factorResult"] = "WAITING",
            ["expiresAt"] = Timestamp(push.ExpiresAt),
            ["_links"] = new JsonObject
            {
                ["poll"] = Link(href, "GET"),
                ["cancel"] = Link(href, "DELETE"),
            },
            ["_embedded"] = new JsonObject
            {
                ["challenge"] = new JsonObject { ["correctAnswer"] = push.CorrectAnswer },
            },
        };
    }

    private static JsonObject UserJson(DemoCaller user, Uri baseUrl) => new()
    {
        ["id"] = user.Id,
        ["status"] = user.Status,
        ["created"] = Timestamp(user.Created),
        ["activated"] = Timestamp(user.Created),
        ["statusChanged"] = Timestamp(user.StatusChanged),
        ["lastLogin"] = user.LastLogin is { } lastLogin ? Timestamp(lastLogin) : null,
        ["lastUpdated"] = Timestamp(user.StatusChanged),
        ["passwordChanged"] = Timestamp(user.Created),
        ["type"] = new JsonObject { ["id"] = EmulatorState.DeterministicId("oty", "default") },
        ["profile"] = Profile(new JsonObject
        {
            ["login"] = user.Login,
            ["email"] = user.Email,
            ["firstName"] = user.FirstName,
            ["lastName"] = user.LastName,
        }, ("title", user.Title), ("department", user.Department), ("manager", user.Manager), ("managerId", user.ManagerId), ("primaryPhone", user.WorkPhone)),
        ["credentials"] = new JsonObject
        {
            ["password"] = new JsonObject(),
            ["provider"] = new JsonObject { ["type"] = user.CredentialsProvider, ["name"] = user.CredentialsProvider },
        },
        ["_links"] = new JsonObject
        {
            ["self"] = new JsonObject { ["href"] = new Uri(baseUrl, "api/v1/users/" + user.Id).ToString() },
        },
    };

    private static JsonObject FactorJson(DemoCaller user, DemoFactor factor, Uri baseUrl)
    {
        var self = new Uri(baseUrl, $"api/v1/users/{user.Id}/factors/{factor.Id}").ToString();
        JsonObject profile = factor.FactorType switch
        {
            "push" => new() { ["credentialId"] = user.Login, ["deviceType"] = "SmartPhone_IPhone", ["name"] = "Demo iPhone", ["platform"] = "IOS", ["version"] = "17.4" },
            "signed_nonce" => new() { ["credentialId"] = user.Login, ["deviceType"] = "SmartPhone_Android", ["name"] = "Demo Pixel", ["platform"] = "ANDROID", ["version"] = "14" },
            "sms" => new() { ["phoneNumber"] = "+1 XXX-XXX-0100" },
            "email" => new() { ["email"] = user.Email },
            _ => new() { ["credentialId"] = user.Login },
        };
        var links = new JsonObject
        {
            ["self"] = Link(self, "GET", "DELETE"),
            ["user"] = Link(new Uri(baseUrl, "api/v1/users/" + user.Id).ToString(), "GET"),
        };
        if (factor.Status == "ACTIVE")
        {
            links["verify"] = Link(self + "/verify", "POST");
        }
        else
        {
            links["activate"] = Link(self + "/lifecycle/activate", "POST");
        }

        return new JsonObject
        {
            ["id"] = factor.Id,
            ["factorType"] = factor.FactorType,
            ["provider"] = factor.Provider,
            ["vendorName"] = factor.VendorName,
            ["status"] = factor.Status,
            ["created"] = Timestamp(factor.Created),
            ["lastUpdated"] = Timestamp(factor.Created),
            ["profile"] = profile,
            ["_links"] = links,
        };
    }

    private static JsonObject GroupJson(string name) => new()
    {
        ["id"] = EmulatorState.GroupId(name),
        ["type"] = name == "Everyone" ? "BUILT_IN" : "OKTA_GROUP",
        ["profile"] = new JsonObject { ["name"] = name, ["description"] = name },
    };

    private static JsonObject RoleJson(string type, string assignmentType, string seed, DateTimeOffset created, EmulatorState state) => new()
    {
        ["id"] = EmulatorState.DeterministicId("ra1", "role/" + seed),
        ["label"] = RoleLabel(type),
        ["type"] = type,
        ["status"] = "ACTIVE",
        ["created"] = Timestamp(created),
        ["lastUpdated"] = Timestamp(state.Now),
        ["assignmentType"] = assignmentType,
    };

    private static string RoleLabel(string type) => type switch
    {
        "SUPER_ADMIN" => "Super Administrator",
        "ORG_ADMIN" => "Organizational Administrator",
        "APP_ADMIN" => "Application Administrator",
        "USER_ADMIN" => "Group Administrator",
        "HELP_DESK_ADMIN" => "Help Desk Administrator",
        "READ_ONLY_ADMIN" => "Read-only Administrator",
        "GROUP_MEMBERSHIP_ADMIN" => "Group Membership Administrator",
        "REPORT_ADMIN" => "Report Administrator",
        "API_ACCESS_MANAGEMENT_ADMIN" => "API Access Management Administrator",
        _ => type,
    };

    private static JsonArray AuthenticatorsJson(EmulatorState state)
    {
        (string Key, string Type, string Name)[] all =
        [
            ("okta_password", "password", "Password"),
            ("okta_email", "email", "Email"),
            ("okta_verify", "app", "Okta Verify"),
            ("google_otp", "app", "Google Authenticator"),
            ("phone_number", "phone", "Phone"),
            ("tac", "tac", "Temporary Access Code"),
        ];
        var created = Timestamp(state.Now.AddDays(-500));
        return new JsonArray([.. all.Select(a => (JsonNode)new JsonObject
        {
            ["type"] = a.Type,
            ["id"] = AuthenticatorId(a.Key),
            ["key"] = a.Key,
            ["status"] = a.Key != "tac" || state.OktaTacActive ? "ACTIVE" : "INACTIVE",
            ["name"] = a.Name,
            ["created"] = created,
            ["lastUpdated"] = created,
        })]);
    }

    private static JsonObject Link(string href, params string[] allow) => new()
    {
        ["href"] = href,
        ["hints"] = new JsonObject { ["allow"] = new JsonArray([.. allow.Select(a => (JsonNode)a)]) },
    };

    private static IResult WithUser(EmulatorState state, string uid, Func<DemoCaller, IResult> action) =>
        state.FindById(uid) is { } user ? action(user) : UserNotFound(uid);

    private static Task<IResult> WithUser(EmulatorState state, string uid, Func<DemoCaller, Task<IResult>> action) =>
        state.FindById(uid) is { } user ? action(user) : Task.FromResult(UserNotFound(uid));

    /// <summary>Okta omits a profile attribute that has no value.</summary>
    private static JsonObject Profile(JsonObject profile, params (string Name, string? Value)[] optional)
    {
        foreach (var (name, value) in optional)
        {
            if (value is not null)
            {
                profile[name] = value;
            }
        }

        return profile;
    }

    /// <summary>A helpdesk agent as the Users API shows them: an active user of the org with a display name.</summary>
    private static JsonObject AgentUserJson(DemoAgent agent, Uri baseUrl, DateTimeOffset now)
    {
        var names = agent.Name.Split(' ', 2);
        var created = now.AddDays(-500);
        return new JsonObject
        {
            ["id"] = agent.Subject,
            ["status"] = "ACTIVE",
            ["created"] = Timestamp(created),
            ["activated"] = Timestamp(created),
            ["statusChanged"] = Timestamp(created),
            ["lastLogin"] = null,
            ["lastUpdated"] = Timestamp(created),
            ["passwordChanged"] = Timestamp(created),
            ["type"] = new JsonObject { ["id"] = EmulatorState.DeterministicId("oty", "default") },
            ["profile"] = new JsonObject
            {
                ["login"] = agent.Email,
                ["email"] = agent.Email,
                ["firstName"] = names[0],
                ["lastName"] = names.Length > 1 ? names[1] : names[0],
                ["displayName"] = agent.Name,
            },
            ["credentials"] = new JsonObject
            {
                ["password"] = new JsonObject(),
                ["provider"] = new JsonObject { ["type"] = "OKTA", ["name"] = "OKTA" },
            },
            ["_links"] = new JsonObject
            {
                ["self"] = new JsonObject { ["href"] = new Uri(baseUrl, "api/v1/users/" + agent.Subject).ToString() },
            },
        };
    }

    /// <summary>Who the audit log names for this request (set by the authentication step of every <c>/api/v1</c> call).</summary>
    private static AdminActor ActorOf(HttpContext http) => (AdminActor)http.Items[ActorItem]!;

    private static IResult UserNotFound(string id) => NotFound(id, "User");

    private static IResult NotFound(string id, string kind) =>
        Error(404, "E0000007", $"Not found: Resource not found: {id} ({kind})");

    internal static string Timestamp(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    internal static IResult Json(JsonNode node, int status = 200) =>
        Results.Text(node.ToJsonString(), "application/json", Encoding.UTF8, status);

    private static (int Status, JsonObject Body) FaultError(int status) => status switch
    {
        400 => (status, ErrorBody("E0000001", "Api validation failed")),
        401 => (status, ErrorBody("E0000011", "Invalid token provided")),
        403 => (status, ErrorBody("E0000006", "You do not have permission to perform the requested action")),
        404 => (status, ErrorBody("E0000007", "Not found: Resource not found")),
        429 => (status, ErrorBody("E0000047", "API call exceeded rate limit due to too many requests.")),
        503 => (status, ErrorBody("E0000009", "Service Unavailable")),
        _ => (status, ErrorBody("E0000009", "Internal Server Error")),
    };

    internal static IResult Error(int status, string code, string summary, params string[] causes)
    {
        var body = ErrorBody(code, summary, causes);
        return Json(body, status);
    }

    private static JsonObject ErrorBody(string code, string summary, params string[] causes) => new()
    {
        ["errorCode"] = code,
        ["errorSummary"] = summary,
        ["errorLink"] = code,
        ["errorId"] = "oae" + EmulatorState.RandomString(22),
        ["errorCauses"] = new JsonArray([.. causes.Select(c => (JsonNode)new JsonObject { ["errorSummary"] = c })]),
    };

    private static async Task Write(HttpContext http, (int Status, JsonObject Body) error)
    {
        http.Response.StatusCode = error.Status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(error.Body.ToJsonString(), http.RequestAborted);
    }

    /// <summary>A fixed one-minute window, as Okta's per-minute limits are; Reset is the window's end in epoch seconds.</summary>
    private sealed class RateWindow
    {
        private readonly Lock _gate = new();
        private long _minute = -1;
        private int _used;

        public (int Remaining, long Reset) Take(DateTimeOffset now)
        {
            var minute = now.ToUnixTimeSeconds() / 60;
            lock (_gate)
            {
                if (minute != _minute)
                {
                    _minute = minute;
                    _used = 0;
                }

                _used++;
                return (Math.Max(0, RateLimit - _used), (minute + 1) * 60);
            }
        }
    }
}
