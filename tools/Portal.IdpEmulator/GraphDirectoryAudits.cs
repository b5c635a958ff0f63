using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Portal.IdpEmulator;

/// <summary>
/// Graph's <c>GET /auditLogs/directoryAudits</c> over the emulator's admin-activity log (the Entra side): the
/// <c>$filter</c> subset a reconciler needs (a time window, an activity), <c>$orderby</c> on the time,
/// <c>$top</c>, and <c>@odata.nextLink</c> paging with a <c>$skiptoken</c>.
/// </summary>
internal static class GraphDirectoryAudits
{
    private const int DefaultTop = 100;
    private const int MaxTop = 1000;
    private const string TokenPrefix = "directoryAudits:";

    public static IResult List(HttpContext http, EmulatorState state, EmulatorContext context)
    {
        var graph = state.Graph;
        var query = http.Request.Query;
        foreach (var key in query.Keys)
        {
            if (key is not ("$filter" or "$top" or "$orderby" or "$skiptoken"))
            {
                return GraphApi.Error(400, "BadRequest", $"Query option '{key}' is not allowed.", graph);
            }
        }

        var top = DefaultTop;
        if (query.TryGetValue("$top", out var topText)
            && (!int.TryParse(topText, NumberStyles.None, CultureInfo.InvariantCulture, out top) || top is < 1 or > MaxTop))
        {
            return GraphApi.Error(400, "BadRequest", $"Invalid page size specified: $top must be between 1 and {MaxTop}.", graph);
        }

        // Graph lists the newest first unless asked otherwise.
        var ascending = false;
        if (query.TryGetValue("$orderby", out var orderText))
        {
            switch (orderText.ToString().Trim())
            {
                case "activityDateTime" or "activityDateTime asc":
                    ascending = true;
                    break;
                case "activityDateTime desc":
                    break;
                default:
                    return GraphApi.Error(400, "BadRequest", "Invalid $orderby: only activityDateTime (asc or desc) is supported.", graph);
            }
        }

        IReadOnlyList<Func<AdminActivity, bool>> terms = [];
        if (query.TryGetValue("$filter", out var filterText))
        {
            var parsed = ParseFilter(filterText.ToString());
            if (parsed is null)
            {
                return GraphApi.Error(400, "BadRequest", "Invalid filter clause: the emulator supports activityDateTime ge|le <date-time>, and activityDisplayName, loggedByService, initiatedBy/app/appId, initiatedBy/user/id eq '…', joined by and.", graph);
            }

            terms = parsed;
        }

        long? skipPast = null;
        if (query.TryGetValue("$skiptoken", out var skipText))
        {
            if (ParseSkipToken(skipText.ToString()) is not { } position)
            {
                return GraphApi.Error(400, "BadRequest", "Invalid $skiptoken: follow @odata.nextLink.", graph);
            }

            skipPast = position;
        }

        var matched = state.ActivitiesOf(IdpSide.Entra).Events
            .Where(e => terms.All(t => t(e)))
            .Where(e => skipPast is not { } past || (ascending ? e.Sequence > past : e.Sequence < past))
            .ToList();
        if (!ascending)
        {
            matched.Reverse();
        }

        var page = matched.Take(top).ToList();
        var body = new JsonObject
        {
            ["@odata.context"] = GraphApi.Context("auditLogs/directoryAudits"),
            ["value"] = new JsonArray([.. page.Select(e => (JsonNode)DirectoryAuditJson(e))]),
        };
        if (matched.Count > page.Count)
        {
            var next = QueryString.Create(query
                .Where(q => q.Key != "$skiptoken")
                .Select(q => new KeyValuePair<string, string?>(q.Key, q.Value.ToString()))
                .Append(new KeyValuePair<string, string?>("$skiptoken", SkipToken(page[^1].Sequence))));
            body["@odata.nextLink"] = new Uri(context.BaseFor(http.Request), "v1.0/auditLogs/directoryAudits" + next.ToUriComponent()).AbsoluteUri;
        }

        return GraphApi.Json(body);
    }

    /// <summary>How Entra's audit catalogue names an action: activity, service, operation type, and the status reason.</summary>
    internal static (string Activity, string Service, string OperationType, string ResultReason) Describe(AdminActivity e) => e.Kind switch
    {
        AdminActivityKind.PasswordReset => ("Reset user password", "Core Directory", "Update", ""),
        AdminActivityKind.SessionsCleared => ("Update StsRefreshTokenValidFrom Timestamp", "Core Directory", "Update", ""),
        AdminActivityKind.TemporaryAccessIssued => ("Admin registered security info", "Authentication Methods", "Add", "Admin registered temporary access pass method for user"),
        AdminActivityKind.FactorRemoved => ("Admin deleted security info", "Authentication Methods", "Delete", $"Admin deleted {MethodName(e.Detail)} method for user"),
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.Kind, "Not an Entra activity."),
    };

    private static string MethodName(string? odataType) => odataType switch
    {
        "microsoftAuthenticatorAuthenticationMethod" => "Microsoft Authenticator",
        "softwareOathAuthenticationMethod" => "software OATH token",
        "phoneAuthenticationMethod" => "phone",
        "fido2AuthenticationMethod" => "FIDO2 security key",
        "emailAuthenticationMethod" => "email",
        "windowsHelloForBusinessAuthenticationMethod" => "Windows Hello for Business",
        GraphDirectory.TapType => "temporary access pass",
        _ => "authentication",
    };

    private static JsonObject DirectoryAuditJson(AdminActivity e)
    {
        var (activity, service, operationType, reason) = Describe(e);
        var actor = e.Actor;
        var human = actor.Kind == AdminActorKind.Administrator;
        return new JsonObject
        {
            ["id"] = e.Id,
            ["category"] = "UserManagement",
            ["correlationId"] = e.TransactionId,
            ["result"] = "success",
            ["resultReason"] = reason,
            ["activityDisplayName"] = activity,
            ["activityDateTime"] = Timestamp(e.At),
            ["loggedByService"] = service,
            ["operationType"] = operationType,
            ["initiatedBy"] = new JsonObject
            {
                ["user"] = human
                    ? new JsonObject
                    {
                        ["id"] = actor.Id,
                        ["displayName"] = actor.DisplayName,
                        ["userPrincipalName"] = actor.AlternateId,
                        ["ipAddress"] = actor.IpAddress,
                    }
                    : null,
                ["app"] = human
                    ? null
                    : new JsonObject
                    {
                        ["appId"] = actor.ClientId,
                        ["displayName"] = actor.DisplayName,
                        ["servicePrincipalId"] = actor.Id,
                        ["servicePrincipalName"] = null,
                    },
            },
            ["targetResources"] = new JsonArray(new JsonObject
            {
                ["id"] = e.TargetId,
                ["displayName"] = e.TargetDisplayName,
                ["type"] = "User",
                ["userPrincipalName"] = e.TargetLogin,
                ["modifiedProperties"] = new JsonArray(),
            }),
            ["additionalDetails"] = new JsonArray(),
        };
    }

    /// <summary>
    /// The <c>$filter</c> subset: terms joined by <c>and</c>, each <c>activityDateTime ge|le &lt;date-time&gt;</c> or
    /// <c>attribute eq '…'</c> on the attributes Graph documents as filterable with <c>eq</c>. Null: anything else.
    /// </summary>
    internal static IReadOnlyList<Func<AdminActivity, bool>>? ParseFilter(string filter)
    {
        var terms = new List<Func<AdminActivity, bool>>();
        var i = 0;
        while (true)
        {
            GraphFilterExpression.SkipSpaces(filter, ref i);
            var attribute = ReadToken(filter, ref i);
            if (!GraphFilterExpression.RequireSpace(filter, ref i))
            {
                return null;
            }

            var op = ReadToken(filter, ref i);
            if (!GraphFilterExpression.RequireSpace(filter, ref i))
            {
                return null;
            }

            if (attribute == "activityDateTime")
            {
                var text = ReadToken(filter, ref i);
                if (op is not ("ge" or "le")
                    || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
                {
                    return null;
                }

                terms.Add(op == "ge" ? e => e.At >= at : e => e.At <= at);
            }
            else
            {
                var value = GraphFilterExpression.ReadLiteral(filter, ref i);
                Func<AdminActivity, string?>? property = attribute switch
                {
                    "activityDisplayName" => e => Describe(e).Activity,
                    "loggedByService" => e => Describe(e).Service,
                    "initiatedBy/app/appId" => e => e.Actor.Kind == AdminActorKind.Administrator ? null : e.Actor.ClientId,
                    "initiatedBy/user/id" => e => e.Actor.Kind == AdminActorKind.Administrator ? e.Actor.Id : null,
                    _ => null,
                };
                if (op != "eq" || value is null || property is null)
                {
                    return null;
                }

                terms.Add(e => string.Equals(property(e), value, StringComparison.Ordinal));
            }

            GraphFilterExpression.SkipSpaces(filter, ref i);
            if (i == filter.Length)
            {
                return terms;
            }

            if (ReadToken(filter, ref i) != "and" || !GraphFilterExpression.RequireSpace(filter, ref i))
            {
                return null;
            }
        }
    }

    /// <summary>A name, an operator or an unquoted literal: everything up to the next space.</summary>
    private static string ReadToken(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && s[i] != ' ' && s[i] != '\'')
        {
            i++;
        }

        return s[start..i];
    }

    private static string SkipToken(long position) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(TokenPrefix + position.ToString(CultureInfo.InvariantCulture)));

    private static long? ParseSkipToken(string token)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            return text.StartsWith(TokenPrefix, StringComparison.Ordinal)
                && long.TryParse(text.AsSpan(TokenPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var position)
                ? position
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>Graph's audit times carry seven fractional digits, UTC.</summary>
    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}
