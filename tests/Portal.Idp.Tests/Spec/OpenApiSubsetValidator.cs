using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portal.Idp.Tests.Spec;

/// <summary>
/// Checks HTTP exchanges against an OpenAPI 3.0 document: the operation exists for the method and path, the
/// status is one it documents, and a JSON body matches the documented schema (types, required properties,
/// enums, date-times, nullable, allOf/oneOf/anyOf, arrays). Small on purpose: the subset of JSON Schema that
/// Okta's spec uses for the operations the portal calls. Unknown properties are allowed, as the spec does not
/// close its objects.
/// </summary>
internal sealed class OpenApiSubsetValidator
{
    private readonly JsonObject _spec;
    private readonly List<(string Template, string[] Segments, JsonObject Item)> _paths;

    public OpenApiSubsetValidator(JsonObject spec)
    {
        _spec = spec;
        _paths = [.. spec["paths"]!.AsObject().Select(p => (p.Key, p.Key.Trim('/').Split('/'), p.Value!.AsObject()))];
    }

    public static OpenApiSubsetValidator Load(string file) => new(JsonNode.Parse(File.ReadAllText(file))!.AsObject());

    /// <summary>The operation id for a method and a concrete path, or null when the spec has no such operation.</summary>
    public (string OperationId, JsonObject Operation)? FindOperation(string method, string path)
    {
        var segments = path.Split('?')[0].Trim('/').Split('/');
        foreach (var (_, template, item) in _paths.OrderBy(p => p.Segments.Count(s => s.StartsWith('{'))))
        {
            if (template.Length == segments.Length
                && template.Zip(segments).All(t => t.First.StartsWith('{') || string.Equals(t.First, t.Second, StringComparison.Ordinal))
                && item[method.ToLowerInvariant()] is JsonObject operation)
            {
                return (operation["operationId"]!.GetValue<string>(), operation);
            }
        }

        return null;
    }

    /// <summary>Every way the exchange departs from the spec; empty when it conforms.</summary>
    public IReadOnlyList<string> Validate(string method, string path, int status, string? contentType, string body)
    {
        var problems = new List<string>();
        var found = FindOperation(method, path);
        if (found is null)
        {
            problems.Add($"{method} {path}: no such operation in the spec");
            return problems;
        }

        var (operationId, operation) = found.Value;
        var responses = operation["responses"]!.AsObject();
        var response = responses[status.ToString(CultureInfo.InvariantCulture)] ?? responses["default"];
        if (response is null)
        {
            problems.Add($"{operationId}: status {status} is not documented (documented: {string.Join(", ", responses.Select(r => r.Key))})");
            return problems;
        }

        var resolved = Resolve(response.AsObject());
        var schema = resolved["content"]?["application/json"]?["schema"];
        if (schema is null)
        {
            // "content: {}" documents no body.
            return problems;
        }

        if (contentType is null || !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"{operationId} {status}: content type {contentType ?? "none"} is not application/json");
            return problems;
        }

        JsonNode? value;
        try
        {
            value = JsonNode.Parse(body);
        }
        catch (JsonException ex)
        {
            problems.Add($"{operationId} {status}: body is not JSON ({ex.Message})");
            return problems;
        }

        Check(schema.AsObject(), value, "$", problems, depth: 0);
        return [.. problems.Select(p => $"{operationId} {status}: {p}")];
    }

    /// <summary>Checks a body against Okta's Error schema (for answers any operation can give: 401, 5xx).</summary>
    public IReadOnlyList<string> ValidateError(int status, string? contentType, string body, string operation)
    {
        if (contentType is null || !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return [$"{operation} {status}: content type {contentType ?? "none"} is not application/json"];
        }

        var problems = new List<string>();
        var error = _spec["components"]!["schemas"]!["Error"]!.AsObject();
        var value = JsonNode.Parse(body);
        Check(error, value, "$", problems, depth: 0);
        if (value?["errorCode"] is null)
        {
            problems.Add("$: an Okta error carries an errorCode");
        }

        return [.. problems.Select(p => $"{operation} {status}: {p}")];
    }

    private JsonObject Resolve(JsonObject node)
    {
        var seen = 0;
        while (node["$ref"] is JsonValue reference && seen++ < 20)
        {
            var parts = reference.GetValue<string>().TrimStart('#', '/').Split('/');
            JsonNode current = _spec;
            foreach (var part in parts)
            {
                current = current[part] ?? throw new InvalidOperationException("Unresolvable $ref " + reference);
            }

            node = current.AsObject();
        }

        return node;
    }

    private void Check(JsonObject schemaNode, JsonNode? value, string at, List<string> problems, int depth)
    {
        if (depth > 40)
        {
            return;
        }

        var schema = Resolve(schemaNode);
        if (value is null)
        {
            if (schema["nullable"]?.GetValue<bool>() != true && !IsOnlyComposition(schema))
            {
                problems.Add($"{at}: null where the schema does not allow it");
            }

            return;
        }

        if (schema["allOf"] is JsonArray allOf)
        {
            foreach (var part in allOf)
            {
                Check(part!.AsObject(), value, at, problems, depth + 1);
            }
        }

        foreach (var keyword in new[] { "oneOf", "anyOf" })
        {
            if (schema[keyword] is JsonArray options)
            {
                var matches = options.Count(o =>
                {
                    var trial = new List<string>();
                    Check(o!.AsObject(), value, at, trial, depth + 1);
                    return trial.Count == 0;
                });
                if (matches == 0)
                {
                    problems.Add($"{at}: matches none of the {keyword} schemas");
                }
            }
        }

        var type = schema["type"]?.GetValue<string>();
        var kind = value.GetValueKind();
        switch (type)
        {
            case "object" when kind != JsonValueKind.Object:
            case "array" when kind != JsonValueKind.Array:
            case "string" when kind != JsonValueKind.String:
            case "boolean" when kind is not (JsonValueKind.True or JsonValueKind.False):
            case "number" when kind != JsonValueKind.Number:
                problems.Add($"{at}: {kind} where the schema says {type}");
                return;
            case "integer" when kind != JsonValueKind.Number || !value.AsValue().TryGetValue<long>(out _):
                problems.Add($"{at}: {kind} where the schema says integer");
                return;
        }

        if (schema["enum"] is JsonArray allowed && kind == JsonValueKind.String
            && !allowed.Any(a => a is not null && a.GetValueKind() == JsonValueKind.String && a.GetValue<string>() == value.GetValue<string>()))
        {
            problems.Add($"{at}: '{value.GetValue<string>()}' is not one of the spec's values ({string.Join(", ", allowed)})");
        }

        if (kind == JsonValueKind.String && schema["format"]?.GetValue<string>() == "date-time"
            && !DateTimeOffset.TryParseExact(value.GetValue<string>(), ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mm:ssK"], CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            problems.Add($"{at}: '{value.GetValue<string>()}' is not an RFC 3339 date-time");
        }

        if (kind == JsonValueKind.Object)
        {
            var obj = value.AsObject();
            if (schema["required"] is JsonArray required)
            {
                foreach (var name in required.Select(r => r!.GetValue<string>()).Where(n => !obj.ContainsKey(n)))
                {
                    problems.Add($"{at}: required property '{name}' is missing");
                }
            }

            if (schema["properties"] is JsonObject properties)
            {
                foreach (var (name, propertySchema) in properties)
                {
                    if (obj.TryGetPropertyValue(name, out var propertyValue))
                    {
                        Check(propertySchema!.AsObject(), propertyValue, at + "." + name, problems, depth + 1);
                    }
                }
            }
        }

        if (kind == JsonValueKind.Array && schema["items"] is JsonObject items)
        {
            var i = 0;
            foreach (var item in value.AsArray())
            {
                Check(items, item, $"{at}[{i++}]", problems, depth + 1);
            }
        }
    }

    private static bool IsOnlyComposition(JsonObject schema) => schema["type"] is null && schema["properties"] is null && schema["allOf"] is null && schema["oneOf"] is null;
}
