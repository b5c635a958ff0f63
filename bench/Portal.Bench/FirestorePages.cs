using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Portal.Storage;

namespace Portal.Bench;

/// <summary>
/// <c>Portal.Bench firestore-pages --firestore-project P --firestore-emulator HOST:PORT --tenant T --pages K</c>:
/// reads the first K audit pages (201 documents, newest first, each page after the last one's cursor) through the
/// store, then the same pages by raw REST runQuery with System.Net.Http and System.Text.Json, alternating, and prints
/// the median milliseconds per page of each: "store raw". bench/http.sh reports raw ÷ store (goal ≥ 0.8).
/// </summary>
internal static class FirestorePages
{
    private const int Limit = 201;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            options[args[i].TrimStart('-')] = args[i + 1];
        }

        var project = options["firestore-project"];
        var host = options["firestore-emulator"];
        var tenant = options.GetValueOrDefault("tenant", "demo-okta");
        var pages = int.Parse(options.GetValueOrDefault("pages", "10"), CultureInfo.InvariantCulture);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Portal:Storage:Provider"] = "Firestore",
            ["Portal:Storage:Firestore:ProjectId"] = project,
            ["Portal:Storage:Firestore:EmulatorHost"] = host,
        }).Build();
        await using var services = new ServiceCollection().AddLogging().AddPortalStorage(configuration).BuildServiceProvider();
        var store = services.GetRequiredService<IDocumentStore>();
        using var http = new HttpClient { BaseAddress = new Uri($"http://{host}/") };
        http.DefaultRequestHeaders.Authorization = new("Bearer", "owner");
        var parent = $"projects/{project}/databases/(default)/documents/tenants/{tenant}";

        var storeTimes = new List<double>();
        var rawTimes = new List<double>();
        QueryCursor? storeCursor = null;
        JsonArray? rawCursor = null;
        for (var page = 0; page < pages; page++)
        {
            var clock = Stopwatch.StartNew();
            StoredDocument? last = null;
            var count = 0;
            await foreach (var document in store.QueryAsync(new DocumentQuery(CollectionPath.ForTenant(tenant, "audit")) { OrderBy = new FieldOrder("at", true), Limit = Limit, StartAfter = storeCursor }))
            {
                if (++count < Limit)
                {
                    last = document;
                }
            }

            storeTimes.Add(clock.Elapsed.TotalMilliseconds);
            if (last is null)
            {
                break;
            }

            storeCursor = new QueryCursor(DateTimeOffset.Parse(last.Data["at"]!.GetValue<string>(), CultureInfo.InvariantCulture), last.Key.Id);

            clock.Restart();
            var query = new JsonObject
            {
                ["from"] = new JsonArray(new JsonObject { ["collectionId"] = "audit" }),
                ["orderBy"] = new JsonArray(
                    new JsonObject { ["field"] = new JsonObject { ["fieldPath"] = "at" }, ["direction"] = "DESCENDING" },
                    new JsonObject { ["field"] = new JsonObject { ["fieldPath"] = "__name__" }, ["direction"] = "DESCENDING" }),
                ["limit"] = Limit,
            };
            if (rawCursor is not null)
            {
                query["startAt"] = new JsonObject { ["values"] = rawCursor.DeepClone(), ["before"] = false };
            }

            using var response = await http.PostAsJsonAsync($"v1/{parent}:runQuery", new JsonObject { ["structuredQuery"] = query });
            response.EnsureSuccessStatusCode();
            using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync());
            var docs = body.RootElement.EnumerateArray().Where(e => e.TryGetProperty("document", out _)).Select(e => e.GetProperty("document")).ToList();
            rawTimes.Add(clock.Elapsed.TotalMilliseconds);
            var lastRaw = docs[Math.Min(docs.Count, Limit - 1) - 1];
            rawCursor = new JsonArray(
                JsonNode.Parse(lastRaw.GetProperty("fields").GetProperty("at").GetRawText()),
                new JsonObject { ["referenceValue"] = lastRaw.GetProperty("name").GetString() });
        }

        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Median(storeTimes):F1} {Median(rawTimes):F1}"));
        return 0;
    }
}
