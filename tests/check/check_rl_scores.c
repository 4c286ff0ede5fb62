/* The token scores a rollout gives a judged response (rl_score_tokens, src/rl/rollout.c): in
 * span mode the last token carries the critic's overall score times rl.score_weight, so that an
 * empty answer judged bad costs something; rl.score_weight 0 gives the scores of before the key
 * (spans, the EOS's unannotated score, final_score), where an empty answer scored 0. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "rl/rl_internal.h"

/* The scores of `text` (then an EOS) for a critique given as JSON with a score and final score. */
static bool scores_of(check_ctx *ctx, const t2g_config *c, const char *text, const char *critique_json, double score,
                      double final_score, float *scores, uint32_t *count) {
    t2g_critic_result judged = {.ok = true, .score = score, .final_score = final_score, .attempts = 1};
    if (!check_status(ctx, t2g_critique_parse(critique_json, strlen(critique_json), &judged.critique, &ctx->err),
                      critique_json))
        return false;
    uint32_t spans = judged.critique.span_count;
    t2g_token_span bytes[64]; /* the byte tokenizer's spans: token i is byte i */
    for (uint32_t i = 0; i < 64; i++) bytes[i] = (t2g_token_span){i, i + 1};
    rl_response r = {.count = (uint32_t)strlen(text) + 1, .eos = true, .text = (char *)text, .len = strlen(text),
                     .spans = bytes, .aligned = check_host(ctx, (spans ? spans : 1) * sizeof(t2g_aligned_span))};
    t2g_span_stats stats = {0};
    bool scored = check_status(ctx, rl_score_tokens(c, &stats, &r, &judged, scores, &ctx->err), "scoring");
    *count = r.count;
    t2g_critique_free(&judged.critique);
    return scored;
}

static t2g_config with(t2g_reward_granularity granularity, double score_weight) {
    t2g_config c = t2g_config_defaults();
    c.rl.reward_granularity = granularity;
    c.rl.score_weight = score_weight;
    return c;
}

T2G_HOST_CHECK(rl_score_weight) {
    check_case_begin(ctx);
    t2g_config defaults = t2g_config_defaults();
    check_true(ctx, defaults.rl.score_weight == 1.0 && defaults.rl.reward_granularity == T2G_REWARD_SPAN,
               "rl.score_weight is on by default (%g)", defaults.rl.score_weight);
    float scores[8];
    uint32_t n;

    /* An empty answer as tools/example_critic.py judges it: no spans, score -1, no final score. */
    static const char NOTHING[] = "{\"textual_feedback\": \"The response has no number.\", \"good_spans\": [], "
                                  "\"poor_spans\": []}";
    t2g_config on = with(T2G_REWARD_SPAN, 1.0), off = with(T2G_REWARD_SPAN, 0.0), heavy = with(T2G_REWARD_SPAN, 2.5);
    if (scores_of(ctx, &on, "", NOTHING, -1.0, 0.0, scores, &n))
        check_true(ctx, n == 1 && scores[0] == -1.0f, "score_weight 1: the empty answer's EOS scores -1 (%g)", scores[0]);
    if (scores_of(ctx, &heavy, "", NOTHING, -1.0, 0.0, scores, &n))
        check_true(ctx, n == 1 && scores[0] == -2.5f, "score_weight 2.5: -2.5 (%g)", scores[0]);
    if (scores_of(ctx, &off, "", NOTHING, -1.0, 0.0, scores, &n))
        check_true(ctx, n == 1 && scores[0] == 0.0f, "score_weight 0: 0 as before the key, saying nothing pays (%g)",
                   scores[0]);
    /* With a final score (the built-in critics' omissions), both add up on the last token. */
    if (scores_of(ctx, &on, "", NOTHING, -1.0, -3.0, scores, &n))
        check_true(ctx, n == 1 && scores[0] == -4.0f, "final score -3 and score -1: -4 (%g)", scores[0]);
    if (scores_of(ctx, &off, "", NOTHING, -1.0, -3.0, scores, &n))
        check_true(ctx, n == 1 && scores[0] == -3.0f, "score_weight 0: the final score alone, as before (%g)", scores[0]);

    /* "936" for 926: the spans score the digits whatever the weight; only the EOS moves. */
    static const char WRONG_TENS[] = "{\"textual_feedback\": \"The tens digit should be 2.\", \"good_spans\": [\"9\", "
                                     "\"6\"], \"poor_spans\": [\"3\"]}";
    const double third = 1.0 / 3.0;
    float off_scores[8];
    uint32_t off_n = 0;
    if (scores_of(ctx, &on, "936", WRONG_TENS, third, 0.0, scores, &n) &&
        scores_of(ctx, &off, "936", WRONG_TENS, third, 0.0, off_scores, &off_n)) {
        check_true(ctx, n == 4 && off_n == 4 && scores[0] == 1.0f && scores[1] == -1.0f && scores[2] == 1.0f &&
                            memcmp(scores, off_scores, 3 * sizeof *scores) == 0,
                   "'936': digits +1 -1 +1 with either weight (%g %g %g)", scores[0], scores[1], scores[2]);
        check_true(ctx, off_scores[3] == 0.0f && fabsf(scores[3] - (float)third) < 1e-7f,
                   "'936': the EOS scores 0 without the weight, the score (%g) with it (%g)", third, scores[3]);
    }

    /* Scalar mode: the score on the last token only, the weight plays no part. */
    t2g_config scalar = with(T2G_REWARD_SCALAR, 2.5);
    if (scores_of(ctx, &scalar, "936", WRONG_TENS, third, -3.0, scores, &n))
        check_true(ctx, n == 4 && scores[0] == 0.0f && scores[2] == 0.0f && scores[3] == (float)third,
                   "scalar mode: 0 0 0 then the score (%g %g %g %g)", scores[0], scores[1], scores[2], scores[3]);
    return ctx->failures;
}
